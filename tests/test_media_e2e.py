"""Images end to end: signed upload, the browser's PUT, a post through the API, and the real
worker publishing to the real local Bluesky PDS. Run once per storage backend: the local one
with a worker of its own that has no S3 setting, on a broker of its own."""

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from atproto import Client, models
from django.conf import settings as django_settings
from PIL import Image

from hayon.celery import app as celery_app
from media.models import Media
from posts.models import Delivery
from tests.conftest import ARTIFACTS, WORKER_SETTINGS, database_url, wait_for
from tests.support.api import send_upload
from tests.support.images import noisy_png, small_jpeg
from tests.support.rabbitmq import VirtualHost
from tests.support.s3 import BUCKET
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Environment variables that would give a process an S3 store (Hayon's own and boto3's).
S3_ENV_PREFIXES = ("HAYON_S3_", "AWS_")


@pytest.fixture
def pds_account(pds):
    return pds.create_account("media")


@pytest.fixture
def bluesky(alice_api, pds, pds_account) -> dict:
    response = alice_api.post(
        "/api/accounts/bluesky/",
        {
            "handle": pds_account.handle,
            "app_password": pds_account.password,
            "service_url": pds.url,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def publish_with_image(
    api, account: dict, media_id: int, alt: str, dispatch_on: str | None = None
) -> dict:
    """Post the image now and return the post once published.

    With `dispatch_on` (a broker URL), ask the dispatcher listening there to send the delivery.
    """
    response = api.post(
        "/api/posts/",
        {
            "text": "A picture",
            "accounts": [account["id"]],
            "media": [{"id": media_id, "alt": alt}],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    post_id = response.json()["id"]
    if dispatch_on:
        with celery_app.connection_for_write(dispatch_on) as connection:
            celery_app.send_task("posts.dispatch_due", connection=connection)

    def published():
        """the delivery is published"""
        return Delivery.objects.get(post_id=post_id).status == "published"

    wait_for(published, timeout=60)
    return api.get(f"/api/posts/{post_id}/").json()


def published_image(pds, account, rkey: str) -> tuple[models.AppBskyEmbedImages.Image, bytes]:
    """Return the record's one embedded image and its blob's bytes, read back from the PDS."""
    client = Client(base_url=pds.url)
    try:
        client.login(account.handle, account.password, fetch_bsky_profile=False)
        record = client.app.bsky.feed.post.get(account.did, rkey).value
        [image] = record.embed.images
        blob = client.com.atproto.sync.get_blob(
            models.ComAtprotoSyncGetBlob.Params(did=account.did, cid=image.image.cid.encode())
        )
        return image, blob
    finally:
        client.request.close()


def rkey_of(post: dict) -> str:
    [delivery] = post["deliveries"]
    assert delivery["status"] == "published", delivery
    return delivery["remote_id"]


def test_an_image_uploaded_to_s3_reaches_bluesky_as_is_with_alt_and_aspect_ratio(
    worker, fakes, pds, pds_account, bluesky, alice, alice_api
):
    s3 = fakes["storage"]
    data = small_jpeg(640, 480)
    media_id = send_upload(alice_api, data, "image/jpeg")
    temp_key = Media.objects.get(pk=media_id).key

    post = publish_with_image(alice_api, bluesky, media_id, alt="A blue and red gradient")

    media = Media.objects.get(pk=media_id)
    assert media.backend == "s3"
    assert media.key.startswith(f"posts/{alice.pk}/{post['id']}/")
    assert media.key in s3.keys("posts/")
    assert s3.keys(temp_key) == []
    image, blob = published_image(pds, pds_account, rkey_of(post))
    assert image.alt == "A blue and red gradient"
    assert (image.aspect_ratio.width, image.aspect_ratio.height) == (640, 480)
    assert image.image.mime_type == "image/jpeg"
    # Under Bluesky's limit: the very bytes that were uploaded.
    assert blob == data
    assert s3.client().get_object(Bucket=BUCKET, Key=media.key)["Body"].read() == data


def test_a_3_mb_png_reaches_bluesky_as_an_image_under_the_limit(
    worker, pds, pds_account, bluesky, alice_api
):
    data = noisy_png(1250, 800)
    assert len(data) > 3_000_000
    media_id = send_upload(alice_api, data, "image/png")

    post = publish_with_image(alice_api, bluesky, media_id, alt="Static")

    image, blob = published_image(pds, pds_account, rkey_of(post))
    assert len(blob) <= 1_000_000
    assert image.image.size == len(blob)
    with Image.open(io.BytesIO(blob)) as sent:
        sent.load()
        assert sent.format == "JPEG"
        assert (image.aspect_ratio.width, image.aspect_ratio.height) == sent.size
    assert image.aspect_ratio.width / image.aspect_ratio.height == pytest.approx(1250 / 800, 0.01)
    assert image.alt == "Static"


def s3_settings() -> list[str]:
    return [name for name in dir(django_settings) if name.startswith("HAYON_S3_")]


@pytest.fixture
def s3_less_worker(live_server, tmp_path, transactional_db) -> Iterator[tuple[WorkerProcess, str]]:
    """A worker of its own on a broker of its own, started with no S3 setting at all.

    The session's worker has the moto bucket in its settings, so it cannot prove a flow works
    without S3; this one shares only the database and the local media folder with the test.
    Yield it with its broker URL.
    """
    vhost = VirtualHost().create()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(S3_ENV_PREFIXES)},
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": vhost.url,
        **WORKER_SETTINGS,
        "HAYON_MEDIA_ROOT": str(tmp_path / "media"),
        "HAYON_PUBLIC_URL": live_server.url,
    }
    log_path = ARTIFACTS / "logs" / f"s3-less-worker-{os.getpid()}.log"
    worker = WorkerProcess(env, log_path, concurrency=2)
    try:
        yield worker.start(), vhost.url
    finally:
        worker.stop()
        vhost.delete()


def test_the_local_backend_gives_the_same_flow_without_s3(
    s3_less_worker, live_server, settings, tmp_path, pds, pds_account, bluesky, alice, alice_api
):
    worker, broker_url = s3_less_worker
    # No S3 setting in this process either (the session's fakes may have set them).
    for name in s3_settings():
        setattr(settings, name, "")
    settings.HAYON_MEDIA_ROOT = tmp_path / "media"
    settings.HAYON_PUBLIC_URL = live_server.url
    # This process's producer talks to the session's broker, where the bucket-configured
    # worker listens: send nothing from here, and let the S3-less worker's dispatcher send
    # the delivery on its own broker.
    settings.HAYON_DISPATCH_HORIZON = -3600
    data = small_jpeg(300, 500)
    media_id = send_upload(alice_api, data, "image/jpeg")
    root = Path(settings.HAYON_MEDIA_ROOT)
    temp_path = root / Media.objects.get(pk=media_id).key
    assert temp_path.read_bytes() == data

    post = publish_with_image(alice_api, bluesky, media_id, alt="Portrait", dispatch_on=broker_url)

    assert not [k for k in worker.env if k.startswith(S3_ENV_PREFIXES)]
    assert s3_settings() and not [name for name in s3_settings() if getattr(settings, name)]
    [delivery] = post["deliveries"]
    assert f"delivery published post={post['id']} delivery={delivery['id']}" in worker.tail(200)
    media = Media.objects.get(pk=media_id)
    assert media.backend == "local"
    assert media.key.startswith(f"posts/{alice.pk}/{post['id']}/")
    assert (root / media.key).read_bytes() == data
    assert not temp_path.exists()
    [shown] = post["media"]
    assert requests.get(shown["url"], timeout=10).content == data
    assert requests.get(shown["thumbnail_url"], timeout=10).headers["Content-Type"] == "image/jpeg"
    image, blob = published_image(pds, pds_account, rkey_of(post))
    assert (image.aspect_ratio.width, image.aspect_ratio.height, image.alt) == (
        300,
        500,
        "Portrait",
    )
    assert blob == data

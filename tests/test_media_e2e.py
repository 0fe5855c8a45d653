"""Images end to end: signed upload, the browser's PUT, a post through the API, and the real
worker publishing to the real local Bluesky PDS. Run once per storage backend."""

import io
from pathlib import Path

import pytest
import requests
from atproto import Client, models
from PIL import Image

from media.models import Media
from posts.models import Delivery
from tests.conftest import wait_for
from tests.support.images import noisy_png, small_jpeg
from tests.support.s3 import BUCKET

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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


def upload_image(api, data: bytes, content_type: str) -> int:
    """Sign an upload and send the bytes like a browser; return the media id."""
    signed = api.post(
        "/api/posts/media/upload/",
        {"filename": "picture", "content_type": content_type, "size": len(data)},
        format="json",
    )
    assert signed.status_code == 201, signed.json()
    target = signed.json()

    sent = requests.request(
        target["method"], target["upload_url"], data=data, headers=target["headers"], timeout=30
    )
    assert sent.status_code == 200, sent.text
    return target["media_id"]


def publish_with_image(api, account: dict, media_id: int, alt: str) -> dict:
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
    media_id = upload_image(alice_api, data, "image/jpeg")
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
    media_id = upload_image(alice_api, data, "image/png")

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


def test_the_local_backend_gives_the_same_flow_without_s3(
    worker, live_server, settings, pds, pds_account, bluesky, alice, alice_api
):
    # No bucket: new uploads go to the local folder, signed and served by the app itself.
    settings.HAYON_S3_BUCKET = ""
    settings.HAYON_PUBLIC_URL = live_server.url
    data = small_jpeg(300, 500)
    media_id = upload_image(alice_api, data, "image/jpeg")
    root = Path(settings.HAYON_MEDIA_ROOT)
    temp_path = root / Media.objects.get(pk=media_id).key
    assert temp_path.read_bytes() == data

    post = publish_with_image(alice_api, bluesky, media_id, alt="Portrait")

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

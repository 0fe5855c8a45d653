"""The bucket's rules, and what happens to objects when a post's transaction rolls back."""

import io
from datetime import timedelta
from functools import partial

import pytest
import requests
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from PIL import Image

from media import cleanup, variants
from media.models import Media
from media.services import MediaChoice, attach_to_post, media_for_post
from media.storage import fetch_url, read_bytes
from platforms.base import MediaItem
from tests.support.images import small_jpeg, small_png
from tests.support.s3 import BUCKET

pytestmark = pytest.mark.django_db


@pytest.fixture
def s3(fakes, settings):
    server = fakes["storage"]
    for name, value in server.env().items():
        setattr(settings, name, value)
    return server


@pytest.fixture
def clean_bucket(s3):
    client = s3.client()
    for rule in ("cors", "lifecycle"):
        getattr(client, f"delete_bucket_{rule}")(Bucket=BUCKET)
    for key in s3.keys():
        client.delete_object(Bucket=BUCKET, Key=key)
    return s3


def test_it_applies_cors_for_the_app_and_expires_temp_uploads_after_a_day(clean_bucket, settings):
    client = clean_bucket.client()
    client.put_bucket_lifecycle_configuration(
        Bucket=BUCKET,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "keep-logs",
                    "Filter": {"Prefix": "logs/"},
                    "Status": "Enabled",
                    "Expiration": {"Days": 30},
                }
            ]
        },
    )
    settings.HAYON_MEDIA_CORS_ORIGINS = ["https://hayon.example"]

    call_command("configure_bucket")
    call_command("configure_bucket")

    [cors] = client.get_bucket_cors(Bucket=BUCKET)["CORSRules"]
    assert cors["AllowedOrigins"] == ["https://hayon.example"]
    assert "PUT" in cors["AllowedMethods"]
    rules = {r["ID"]: r for r in client.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]}
    assert set(rules) == {"keep-logs", "hayon-expire-temp-uploads"}
    temp = rules["hayon-expire-temp-uploads"]
    assert temp["Filter"]["Prefix"] == "temp/"
    assert temp["Expiration"]["Days"] == 1


def upload(api, data: bytes, content_type: str = "image/png") -> Media:
    signed = api.post(
        "/api/posts/media/upload/",
        {"filename": "a", "content_type": content_type, "size": len(data)},
        format="json",
    ).json()
    requests.put(signed["upload_url"], data=data, headers=signed["headers"], timeout=10)
    return Media.objects.get(pk=signed["media_id"])


def test_a_rolled_back_post_leaves_the_upload_usable_and_cleanup_takes_the_copy(
    clean_bucket, alice, alice_api, django_capture_on_commit_callbacks
):
    media = upload(alice_api, small_png())
    temp_key = media.key

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            checked, problems = media_for_post(alice, [MediaChoice(media.pk, "alt")])
            attach_to_post(alice, 4242, checked)
            raise RuntimeError("creating the deliveries failed")

    media.refresh_from_db()
    assert media.key == temp_key
    assert media.status == "awaiting_upload"
    assert clean_bucket.keys(temp_key) == [temp_key]
    orphans = clean_bucket.keys(f"posts/{alice.pk}/4242/")
    assert len(orphans) == 2  # the image and its thumbnail

    # Within the grace period a copy may belong to a transaction still open: it stays.
    assert cleanup.remove_orphans("s3") == 0
    later = timezone.now() + cleanup.GRACE + timedelta(minutes=1)
    assert cleanup.remove_orphans("s3", now=later) == 2

    assert clean_bucket.keys("posts/") == []
    checked, problems = media_for_post(alice, [MediaChoice(media.pk, "alt")])
    assert problems == [] and checked == [media]


def test_cleanup_keeps_used_media_and_removes_abandoned_uploads(
    clean_bucket, alice, alice_api, django_capture_on_commit_callbacks
):
    used = upload(alice_api, small_png())
    abandoned = upload(alice_api, small_png(20, 20))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        checked, _ = media_for_post(alice, [MediaChoice(used.pk)])
        attach_to_post(alice, 7, checked)
    used.refresh_from_db()
    Media.objects.filter(pk=abandoned.pk).update(created_at=timezone.now() - timedelta(days=2))

    later = timezone.now() + timedelta(days=1)
    assert cleanup.remove_abandoned_uploads() == 1
    assert cleanup.remove_orphans("s3", now=later) == 0

    assert not Media.objects.filter(pk=abandoned.pk).exists()
    assert clean_bucket.keys(abandoned.key) == []
    assert sorted(clean_bucket.keys("posts/")) == sorted([used.key, used.thumbnail_key])


def attached(api, owner, data: bytes, post_id: int, capture, kind: str = "image/png") -> Media:
    media = upload(api, data, kind)
    with capture(execute=True), transaction.atomic():
        checked, problems = media_for_post(owner, [MediaChoice(media.pk)])
        assert problems == []
        attach_to_post(owner, post_id, checked)
    media.refresh_from_db()
    return media


def as_item(media: Media) -> MediaItem:
    return MediaItem(
        media_id=media.pk,
        content_type=media.content_type,
        size=media.size,
        width=media.width,
        height=media.height,
        alt=media.alt,
        url=fetch_url(media.key),
        read=partial(read_bytes, media.key),
    )


def test_instagram_fetches_a_jpeg_copy_of_a_png_and_cleanup_keeps_it(
    clean_bucket, alice, alice_api, django_capture_on_commit_callbacks
):
    media = attached(alice_api, alice, small_png(600, 500), 9, django_capture_on_commit_callbacks)

    url = variants.instagram_url(as_item(media))
    again = variants.instagram_url(as_item(media))

    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200
    assert Image.open(io.BytesIO(fetched.content)).format == "JPEG"
    assert url.split("?")[0] == again.split("?")[0]
    later = timezone.now() + timedelta(days=1)
    assert cleanup.remove_orphans("s3", now=later) == 0
    assert len(clean_bucket.keys(f"posts/{alice.pk}/9/")) == 3


def test_instagram_fetches_a_fitting_jpeg_from_its_own_url(
    clean_bucket, alice, alice_api, django_capture_on_commit_callbacks
):
    data = small_jpeg(800, 800)
    media = attached(alice_api, alice, data, 10, django_capture_on_commit_callbacks, "image/jpeg")
    item = as_item(media)

    assert variants.instagram_url(item) == item.url
    assert requests.get(item.url, timeout=10).content == data

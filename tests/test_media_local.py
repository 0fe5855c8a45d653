"""The local backend's signed upload and file URLs, served by the app itself (no S3)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import signing
from django.test import Client

from media.models import Media
from media.storage import FETCH_SALT
from tests.support.images import small_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def local(settings, tmp_path) -> Path:
    settings.HAYON_S3_BUCKET = ""
    settings.HAYON_MEDIA_ROOT = tmp_path
    settings.HAYON_PUBLIC_URL = "http://testserver"
    return tmp_path


def sign(api, data: bytes, content_type: str = "image/png") -> dict:
    response = api.post(
        "/api/posts/media/upload/",
        {"filename": "photo.png", "content_type": content_type, "size": len(data)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()


def put(target: dict, data: bytes, content_type: str | None = None):
    """PUT like a browser: no session, no CSRF token, only the signed URL."""
    path = target["upload_url"].removeprefix("http://testserver")
    kind = content_type or target["headers"]["Content-Type"]
    return Client().generic("PUT", path, data, content_type=kind)


def test_it_signs_an_app_served_upload_and_stores_the_bytes(local, alice, alice_api):
    data = small_png()
    target = sign(alice_api, data)

    response = put(target, data)

    assert response.status_code == 200
    media = Media.objects.get(pk=target["media_id"])
    assert media.backend == "local"
    assert media.key.startswith(f"temp/{alice.pk}/")
    assert (local / media.key).read_bytes() == data
    assert target["method"] == "PUT"


def test_it_refuses_an_upload_url_after_fifteen_minutes(local, alice_api):
    data = small_png()
    target = sign(alice_api, data)

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=16)):
        response = put(target, data)

    assert response.status_code == 403
    assert b"expired" in response.content
    assert not list(local.rglob("*.png"))


def test_it_refuses_a_content_type_other_than_the_signed_one(local, alice_api):
    data = small_png()
    target = sign(alice_api, data)

    response = put(target, data, content_type="text/html")

    assert response.status_code == 403
    assert not list(local.rglob("*.png"))


def test_it_refuses_a_tampered_upload_url(local, alice_api):
    target = sign(alice_api, small_png())
    target["upload_url"] = target["upload_url"].replace("/upload/", "/upload/x")

    assert put(target, small_png()).status_code == 403


def test_it_stops_reading_an_upload_past_the_size_limit(local, alice_api, settings):
    settings.HAYON_MEDIA_MAX_BYTES = 1000
    target = sign(alice_api, b"x" * 900)

    response = put(target, b"x" * 5000)

    assert response.status_code == 413
    assert not [p for p in local.rglob("*") if p.is_file()]


def test_it_serves_a_stored_file_only_through_a_signed_url(local):
    (local / "posts/1/2").mkdir(parents=True)
    (local / "posts/1/2/a.png").write_bytes(small_png())
    token = signing.dumps("posts/1/2/a.png", salt=FETCH_SALT)
    forged = signing.dumps("posts/1/2/a.png", salt="something else")

    served = Client().get(f"/media/files/{token}/")
    refused = Client().get(f"/media/files/{forged}/")

    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == small_png()
    assert refused.status_code == 404


def test_it_never_serves_a_key_outside_the_media_folder(local):
    token = signing.dumps("../../etc/passwd", salt=FETCH_SALT)

    assert Client().get(f"/media/files/{token}/").status_code == 404

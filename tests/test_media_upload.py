"""Signing uploads and checking them when a post uses them, against a real S3 server (moto).

These run in the test process: the browser's PUT goes over HTTP to the S3 server, and the
checks and the move happen in the API request. Publishing is in tests/test_media_e2e.py.
"""

import pytest
import requests

from media.models import Media
from platforms.models import Account
from posts.models import Delivery, Post
from tests.support.images import noisy_png, small_jpeg, small_png
from tests.support.s3 import BUCKET

pytestmark = pytest.mark.django_db


@pytest.fixture
def s3(fakes, settings):
    """The moto S3 server, with the app's settings pointing at its bucket."""
    server = fakes["storage"]
    for name, value in server.env().items():
        setattr(settings, name, value)
    return server


@pytest.fixture
def alice_bluesky(alice) -> Account:
    # Posts that get a 400 never reach a platform, so a row is enough here.
    return Account.objects.create(
        owner=alice, platform="bluesky", handle="alice.test", remote_id="did:plc:alice"
    )


def sign(api, data: bytes, content_type: str = "image/png", **fields) -> dict:
    body = {"filename": "photo.png", "content_type": content_type, "size": len(data), **fields}
    response = api.post("/api/posts/media/upload/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def upload(target: dict, data: bytes) -> requests.Response:
    """Send the bytes the way a browser would: straight to the signed URL."""
    response = requests.request(
        target["method"], target["upload_url"], data=data, headers=target["headers"], timeout=10
    )
    assert response.status_code == 200, response.text
    return response


def post_with(api, account: Account, media_id: int, alt: str = "", **fields):
    body = {"text": "With a picture", "accounts": [account.pk], **fields}
    body["media"] = [{"id": media_id, "alt": alt}]
    return api.post("/api/posts/", body, format="json")


def test_it_signs_an_upload_that_a_browser_sends_straight_to_the_bucket(s3, alice, alice_api):
    data = small_png()

    target = sign(alice_api, data)
    upload(target, data)

    assert target["method"] == "PUT"
    assert target["headers"] == {"Content-Type": "image/png"}
    assert target["upload_url"].startswith(f"{s3.url}/{BUCKET}/temp/{alice.pk}/")
    media = Media.objects.get(pk=target["media_id"])
    assert media.key.startswith(f"temp/{alice.pk}/") and media.key.endswith(".png")
    assert media.backend == "s3"
    stored = s3.client().head_object(Bucket=BUCKET, Key=media.key)
    assert stored["ContentLength"] == len(data)
    assert stored["ContentType"] == "image/png"


def test_the_upload_url_expires_after_fifteen_minutes(s3, alice_api):
    target = sign(alice_api, small_png())

    assert "X-Amz-Expires=900" in target["upload_url"]


@pytest.mark.parametrize("content_type", ["image/svg+xml", "application/pdf", "video/mp4"])
def test_it_refuses_to_sign_a_type_no_platform_takes(s3, alice_api, content_type):
    response = alice_api.post(
        "/api/posts/media/upload/",
        {"filename": "thing", "content_type": content_type, "size": 1000},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "media_type_refused"
    assert body["field"] == "content_type"
    assert "image/jpeg" in body["message"]
    assert not Media.objects.exists()


def test_it_refuses_to_sign_a_size_over_the_limit_and_says_the_limit(s3, alice_api, settings):
    settings.HAYON_MEDIA_MAX_BYTES = 5_000_000

    response = alice_api.post(
        "/api/posts/media/upload/",
        {"filename": "huge.jpg", "content_type": "image/jpeg", "size": 5_000_001},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "media_too_large"
    assert "5000000 bytes" in response.json()["message"]


def connect(owner, platform: str, handle: str, **fields) -> Account:
    return Account.objects.create(
        owner=owner, platform=platform, handle=handle, remote_id=f"{platform}-{handle}", **fields
    )


def sign_for(api, accounts: list[int], content_type: str, size: int):
    body = {"filename": "pic", "content_type": content_type, "size": size, "accounts": accounts}
    return api.post("/api/posts/media/upload/", body, format="json")


def test_it_refuses_a_type_none_of_the_chosen_accounts_takes_and_says_why(s3, alice, alice_api):
    instagram = connect(alice, "instagram", "alice.gram")
    threads = connect(alice, "threads", "alice.threads")

    response = sign_for(alice_api, [instagram.pk, threads.pk], "image/gif", 1000)

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("media_type_refused", "content_type")
    assert [(e["account"], e["code"]) for e in body["errors"]] == [
        (instagram.pk, "media_type_refused"),
        (threads.pk, "media_type_refused"),
    ]
    assert "Instagram alice.gram does not take image/gif; it takes JPEG, PNG" in body["message"]
    assert "Threads alice.threads does not take image/gif" in body["message"]
    assert not Media.objects.exists()


def test_it_refuses_a_size_none_of_the_chosen_accounts_takes_and_names_the_limit(
    s3, alice, alice_api
):
    instagram = connect(alice, "instagram", "alice.gram")

    response = sign_for(alice_api, [instagram.pk], "image/jpeg", 9_000_000)

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("media_too_large", "size")
    assert body["message"] == "Instagram alice.gram takes files up to 8 MB; this one has 9.0 MB"
    [problem] = body["errors"]
    assert (problem["account"], problem["limit"], problem["measured"]) == (
        instagram.pk,
        8_000_000,
        9_000_000,
    )
    assert not Media.objects.exists()


def test_it_holds_a_mastodon_account_to_its_instances_types(s3, alice, alice_api):
    mastodon = connect(
        alice,
        "mastodon",
        "alice@small.example",
        limits={"supported_mime_types": ["image/jpeg", "image/png"]},
    )

    refused = sign_for(alice_api, [mastodon.pk], "image/webp", 1000)
    taken = sign_for(alice_api, [mastodon.pk], "image/png", 1000)

    assert refused.status_code == 400
    assert "Mastodon alice@small.example does not take image/webp" in refused.json()["message"]
    assert taken.status_code == 201, taken.json()


def test_it_signs_a_file_that_one_of_the_chosen_accounts_takes(s3, alice, alice_api):
    # 9 MB of GIF: too much for Instagram (JPEG, PNG, 8 MB), fine for Tumblr (20 MB).
    instagram = connect(alice, "instagram", "alice.gram")
    tumblr = connect(alice, "tumblr", "alice-blog")

    response = sign_for(alice_api, [instagram.pk, tumblr.pk], "image/gif", 9_000_000)

    assert response.status_code == 201, response.json()
    assert Media.objects.get(pk=response.json()["media_id"]).size == 9_000_000


def test_without_accounts_it_refuses_only_what_no_platform_takes(s3, alice_api):
    response = alice_api.post(
        "/api/posts/media/upload/",
        {"filename": "pic.gif", "content_type": "image/gif", "size": 9_000_000, "accounts": []},
        format="json",
    )

    assert response.status_code == 201, response.json()


def test_it_treats_another_users_account_like_a_missing_one_when_signing(
    s3, alice, bob, alice_api
):
    alice_instagram = connect(alice, "instagram", "alice.gram")
    bob_tumblr = connect(bob, "tumblr", "bob-blog")

    foreign = sign_for(alice_api, [alice_instagram.pk, bob_tumblr.pk], "image/png", 1000)
    missing = sign_for(alice_api, [alice_instagram.pk, 999_999], "image/png", 1000)

    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == {
        "code": "account_not_found",
        "message": f"account {bob_tumblr.pk} does not exist",
        "field": "accounts[1]",
        "errors": [
            {
                "code": "account_not_found",
                "message": f"account {bob_tumblr.pk} does not exist",
                "field": "accounts[1]",
            }
        ],
    }
    assert missing.json()["message"] == "account 999999 does not exist"
    assert not Media.objects.exists()


def test_a_post_moves_the_checked_upload_under_the_post(
    s3, alice, alice_api, alice_bluesky, django_capture_on_commit_callbacks
):
    data = small_jpeg(400, 300)
    target = sign(alice_api, data, content_type="image/jpeg")
    upload(target, data)
    temp_key = Media.objects.get(pk=target["media_id"]).key

    # A draft: nothing is sent to the worker, and the commit hooks run here.
    with django_capture_on_commit_callbacks(execute=True):
        response = post_with(
            alice_api, alice_bluesky, target["media_id"], alt="A gradient", draft=True
        )

    assert response.status_code == 201, response.json()
    post_id = response.json()["id"]
    media = Media.objects.get(pk=target["media_id"])
    assert media.key.startswith(f"posts/{alice.pk}/{post_id}/") and media.key.endswith(".jpg")
    assert (media.width, media.height, media.alt) == (400, 300, "A gradient")
    assert s3.keys(f"posts/{alice.pk}/{post_id}/") == sorted([media.key, media.thumbnail_key])
    assert s3.client().get_object(Bucket=BUCKET, Key=media.key)["Body"].read() == data
    assert s3.keys(temp_key) == []
    [shown] = response.json()["media"]
    assert (shown["width"], shown["height"], shown["alt"]) == (400, 300, "A gradient")
    assert requests.get(shown["url"], timeout=10).content == data


def assert_refused(response, code: str) -> None:
    assert response.status_code == 400, response.json()
    body = response.json()
    assert code in [problem["code"] for problem in body["errors"]], body
    assert not Post.objects.exists()
    assert not Delivery.objects.exists()


def test_it_treats_another_users_media_like_a_missing_one(s3, bob_api, alice_api, alice_bluesky):
    data = small_png()
    target = sign(bob_api, data)
    upload(target, data)

    foreign = post_with(alice_api, alice_bluesky, target["media_id"])
    missing = post_with(alice_api, alice_bluesky, 999_999)

    assert_refused(foreign, "media_not_found")
    assert foreign.json()["errors"][0]["message"] == f"media {target['media_id']} does not exist"
    assert missing.json()["errors"][0]["message"] == "media 999999 does not exist"
    assert Media.objects.get(pk=target["media_id"]).key.startswith("temp/")


def test_it_refuses_an_upload_that_never_happened(s3, alice_api, alice_bluesky):
    target = sign(alice_api, small_png())

    response = post_with(alice_api, alice_bluesky, target["media_id"])

    assert_refused(response, "upload_missing")


def test_it_refuses_bytes_that_are_not_the_declared_type(s3, alice_api, alice_bluesky):
    data = small_jpeg()
    target = sign(alice_api, data, content_type="image/png")
    upload(target, data)

    response = post_with(alice_api, alice_bluesky, target["media_id"])

    assert_refused(response, "media_type_mismatch")
    assert "its bytes are image/jpeg" in response.json()["message"]
    assert s3.keys("posts/") == [] or all(
        not key.endswith(f"{Media.objects.get(pk=target['media_id']).uuid}.png")
        for key in s3.keys("posts/")
    )


def test_it_refuses_bytes_that_are_no_image_at_all(s3, alice_api, alice_bluesky):
    data = b"%PDF-1.7 definitely not a picture" * 10
    target = sign(alice_api, data, content_type="image/png")
    upload(target, data)

    response = post_with(alice_api, alice_bluesky, target["media_id"])

    assert_refused(response, "media_not_an_image")


def test_it_refuses_an_upload_over_the_limit_the_store_did_not_enforce(
    s3, alice_api, alice_bluesky, settings
):
    settings.HAYON_MEDIA_MAX_BYTES = 100_000
    declared = small_png()
    target = sign(alice_api, declared)
    # The presigned URL does not bind the size, and S3-compatible stores do not check it.
    upload(target, noisy_png(200, 200))

    response = post_with(alice_api, alice_bluesky, target["media_id"])

    assert_refused(response, "media_too_large")
    assert "the limit is 100000 bytes" in response.json()["message"]


def test_a_media_id_serves_one_post_only(s3, alice_api, alice_bluesky):
    data = small_png()
    target = sign(alice_api, data)
    upload(target, data)
    first = post_with(alice_api, alice_bluesky, target["media_id"], draft=True)
    assert first.status_code == 201, first.json()

    again = post_with(alice_api, alice_bluesky, target["media_id"], draft=True)

    assert again.status_code == 400
    assert again.json()["errors"][0]["code"] == "media_in_use"
    assert Post.objects.count() == 1


def test_it_shows_an_owner_their_media_and_deletes_it_while_unused(s3, alice_api, bob_api):
    data = small_png()
    target = sign(alice_api, data)
    upload(target, data)
    key = Media.objects.get(pk=target["media_id"]).key

    shown = alice_api.get(f"/api/posts/media/{target['media_id']}/")
    hidden = bob_api.get(f"/api/posts/media/{target['media_id']}/")
    deleted = alice_api.delete(f"/api/posts/media/{target['media_id']}/")

    assert shown.status_code == 200
    assert shown.json()["status"] == "awaiting_upload"
    assert hidden.status_code == 404
    assert deleted.status_code == 204
    assert not Media.objects.exists()
    assert s3.keys(key) == []

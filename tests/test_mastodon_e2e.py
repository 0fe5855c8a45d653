"""Mastodon end to end: accounts connected through the API, posts published by the real worker
to a Mastodon API on loopback (mastodon-mock, in its own process, and our fake for media that
takes time to process)."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from mastodon import Mastodon

from platforms.base import PublishRequest
from platforms.models import Account
from platforms.registry import get_publisher
from posts.models import Delivery, Post
from tests.conftest import wait_for
from tests.fakes import mastodon_media
from tests.fakes.server import Reply
from tests.support.api import send_upload
from tests.support.images import noisy_png, small_png
from tests.support.mastodon import MastodonMock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def instance():
    with MastodonMock() as server:
        yield server


@pytest.fixture(scope="module")
def big_instance():
    with MastodonMock(max_characters=5000) as server:
        yield server


@pytest.fixture(scope="module")
def slow_media():
    fake = mastodon_media.MastodonMediaFake(processing_polls=2).start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def loopback_allowed(settings):
    # Test instances live on 127.0.0.1, which Hayon otherwise refuses to call.
    settings.HAYON_FETCH_ALLOW_PRIVATE = True


def connect(api, url: str, token: str) -> dict:
    response = api.post(
        "/api/accounts/mastodon/", {"instance_url": url, "access_token": token}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def post(api, account: dict, text: str, **fields) -> int:
    body = {"text": text, "accounts": [account["id"]], **fields}
    response = api.post("/api/posts/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def upload_image(api, data: bytes | None = None) -> int:
    """Sign an upload and send the bytes like a browser; return the media id."""
    data = data or small_png(400, 300)
    return send_upload(api, data, "image/png", "picture.png")


def finished(post_id: int) -> Delivery:
    def check():
        """the delivery reached published, failed or unconfirmed"""
        delivery = Delivery.objects.get(post_id=post_id)
        return delivery if delivery.status in ("published", "failed", "unconfirmed") else None

    return wait_for(check, timeout=45)


def status_on(instance: MastodonMock, status_id: str):
    return Mastodon(access_token=instance.token, api_base_url=instance.url).status(status_id)


def test_it_connects_with_a_token_and_keeps_the_instance_limits(alice_api, instance):
    account = connect(alice_api, instance.url, instance.token)

    assert account["platform"] == "mastodon"
    assert account["handle"] == f"@alice@{instance.url.split('://')[1]}"
    assert account["limits"]["max_characters"] == 500
    assert account["limits"]["characters_reserved_per_url"] == 23
    assert "credentials" not in account
    assert instance.token not in alice_api.get("/api/accounts/").content.decode()


def test_it_refuses_a_token_the_instance_does_not_accept(alice_api, instance):
    response = alice_api.post(
        "/api/accounts/mastodon/",
        {"instance_url": instance.url, "access_token": "not-a-token"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "connect_failed"
    assert "did not accept the access token" in response.json()["message"]
    assert not Account.objects.exists()


def test_it_refuses_an_instance_on_a_private_address_by_default(alice_api, instance, settings):
    settings.HAYON_FETCH_ALLOW_PRIVATE = False

    response = alice_api.post(
        "/api/accounts/mastodon/",
        {"instance_url": instance.url, "access_token": instance.token},
        format="json",
    )

    assert response.status_code == 400
    assert "does not connect to this address" in response.json()["message"]


def test_it_publishes_a_status_with_an_image_and_its_alt_text(worker, alice_api, instance):
    account = connect(alice_api, instance.url, instance.token)
    media_id = upload_image(alice_api)

    post_id = post(
        alice_api,
        account,
        "Morning light over the harbour #photo",
        media=[{"id": media_id, "alt": "Boats at dawn, orange sky"}],
        visibility="unlisted",
        spoiler_text="sunrise",
    )

    delivery = finished(post_id)
    assert delivery.status == "published", delivery.error_message
    status = status_on(instance, delivery.remote_id)
    assert delivery.remote_url == status["url"]
    assert "Morning light over the harbour" in status["content"]
    assert (status["visibility"], status["spoiler_text"]) == ("unlisted", "sunrise")
    [attachment] = status["media_attachments"]
    assert attachment["description"] == "Boats at dawn, orange sky"


def test_an_instance_allowing_5000_characters_takes_a_4000_character_post(
    worker, alice_api, instance, big_instance
):
    small = connect(alice_api, instance.url, instance.token)
    big = connect(alice_api, big_instance.url, big_instance.token)
    text = "word " * 800

    refused = alice_api.post(
        "/api/posts/validate/", {"text": text, "accounts": [small["id"], big["id"]]}, format="json"
    ).json()
    reports = {r["account"]: r for r in refused["accounts"]}
    assert (reports[small["id"]]["ok"], reports[small["id"]]["limit"]) == (False, 500)
    assert (reports[big["id"]]["ok"], reports[big["id"]]["limit"]) == (True, 5000)

    delivery = finished(post(alice_api, big, text))
    assert delivery.status == "published", delivery.error_message
    assert len(status_on(big_instance, delivery.remote_id)["content"]) >= 4000


def test_a_repeated_delivery_returns_the_same_status(alice, instance):
    account = Account.objects.create(
        owner=alice,
        platform="mastodon",
        handle="@alice@mock",
        remote_id="1",
        base_url=instance.url,
        credentials={"access_token": instance.token},
    )
    request = PublishRequest(
        delivery_id=1, post_id=1, text="Said once", idempotency_key="delivery-1-key", attempt=1
    )
    publisher = get_publisher("mastodon")

    first = publisher.publish(account, request)
    again = publisher.publish(account, request)

    assert again == first
    timeline = Mastodon(access_token=instance.token, api_base_url=instance.url)
    mine = timeline.account_statuses(timeline.account_verify_credentials()["id"])
    assert [str(s["id"]) for s in mine].count(first.remote_id) == 1


def test_it_waits_for_media_the_instance_is_still_processing(worker, alice_api, slow_media):
    slow_media.reset()
    account = connect(alice_api, slow_media.url, mastodon_media.TOKEN)

    post_id = post(alice_api, account, "Slow media", media=[{"id": upload_image(alice_api)}])

    delivery = finished(post_id)
    assert delivery.status == "published", delivery.error_message
    assert delivery.attempt_count == 1
    polls = [c for c in slow_media.calls if c.route == "media_get"]
    assert len(polls) == 3  # 206, 206, then 200
    [status] = slow_media.statuses.values()
    assert status["media_attachments"][0]["url"]


def test_it_shrinks_an_image_over_the_instance_size_limit(worker, alice_api, slow_media):
    slow_media.reset()
    slow_media.image_size_limit = 300_000
    account = connect(alice_api, slow_media.url, mastodon_media.TOKEN)
    big = noisy_png(1200, 900)
    assert len(big) > 1_000_000

    post_id = post(alice_api, account, "Big picture", media=[{"id": upload_image(alice_api, big)}])

    delivery = finished(post_id)
    slow_media.image_size_limit = 16_777_216
    assert delivery.status == "published", delivery.error_message
    [upload] = slow_media.uploads
    assert len(upload["data"]) <= 300_000
    assert upload["content_type"] == "image/jpeg"


def test_it_fails_a_post_whose_media_the_instance_could_not_process(worker, alice_api, slow_media):
    slow_media.reset()
    account = connect(alice_api, slow_media.url, mastodon_media.TOKEN)
    slow_media.fail_next("media_get", Reply(422, {"error": "Could not process the image"}))

    post_id = post(alice_api, account, "Broken media", media=[{"id": upload_image(alice_api)}])

    delivery = finished(post_id)
    assert delivery.status == "failed"
    assert delivery.error_message == (
        "Mastodon could not process an image: Could not process the image"
    )
    assert slow_media.statuses == {}


def test_it_asks_again_with_the_same_key_after_a_gateway_timeout(worker, alice_api, slow_media):
    slow_media.reset()
    account = connect(alice_api, slow_media.url, mastodon_media.TOKEN)
    # The instance creates the status, then the gateway gives up on the answer.
    slow_media.fail_next("status_post", Reply(504, {"error": "timeout"}, after_handling=True))

    delivery = finished(post(alice_api, account, "Made once despite a 504"))

    assert delivery.status == "published", delivery.error_message
    assert len(slow_media.statuses) == 1
    assert delivery.remote_id == next(iter(slow_media.statuses))
    keys = {c.headers["idempotency-key"] for c in slow_media.calls if c.route == "status_post"}
    assert keys == {Delivery.objects.get(post_id=delivery.post_id).idempotency_key}
    assert delivery.attempt_count == 2


def test_it_fails_with_the_instances_message_on_422(worker, alice_api, slow_media):
    slow_media.reset()
    account = connect(alice_api, slow_media.url, mastodon_media.TOKEN)
    slow_media.fail_next("status_post", Reply(422, {"error": "Text character limit exceeded"}))

    delivery = finished(post(alice_api, account, "Refused"))

    assert delivery.status == "failed"
    assert delivery.error_message == "Mastodon refused the post: Text character limit exceeded"


def test_it_marks_the_account_for_reconnecting_on_401(worker, alice_api, slow_media):
    slow_media.reset()
    account = connect(alice_api, slow_media.url, mastodon_media.TOKEN)
    slow_media.fail_next("status_post", Reply(401, {"error": "The access token was revoked"}))

    delivery = finished(post(alice_api, account, "Token revoked"))

    assert delivery.status == "failed"
    assert Account.objects.get(pk=account["id"]).health == "needs_reconnect"


def test_it_waits_as_long_as_a_429_asks_then_publishes(worker, alice_api, slow_media):
    slow_media.reset()
    account = connect(alice_api, slow_media.url, mastodon_media.TOKEN)
    reset = datetime.now(UTC) + timedelta(seconds=3)
    slow_media.fail_next(
        "status_post",
        Reply(
            429, {"error": "Too many requests"}, headers={"X-RateLimit-Reset": reset.isoformat()}
        ),
    )

    delivery = finished(post(alice_api, account, "After the rate limit"))

    assert delivery.status == "published", delivery.error_message
    limited, published = delivery.attempts.order_by("number")
    assert (limited.outcome, limited.http_status) == ("rate_limited", 429)
    assert published.started_at >= reset
    first_call, second_call = slow_media.calls_to("status_post")
    assert first_call.at < reset.timestamp() <= second_call.at


def test_a_person_can_retry_an_unconfirmed_delivery_the_instance_has_forgotten(
    worker, alice, alice_api, slow_media
):
    slow_media.reset()
    account = connect(alice_api, slow_media.url, mastodon_media.TOKEN)
    # As the worker leaves it when reconciling came too late for the idempotency key.
    post_ = Post.objects.create(owner=alice, text="Retried after an hour")
    delivery = Delivery.objects.create(
        post=post_,
        account_id=account["id"],
        platform="mastodon",
        status="unconfirmed",
        needs_reconcile=True,
        idempotency_key="forgotten-key",
        platform_state={"status_sent_at": time.time() - 2 * 3600},
    )

    retried = alice_api.post(f"/api/posts/{post_.pk}/deliveries/{delivery.pk}/retry/")

    assert retried.status_code == 200
    delivery = finished(post_.pk)
    assert delivery.status == "published", delivery.error_message
    [status] = slow_media.statuses.values()
    assert (delivery.remote_id, status["content"]) == (status["id"], "Retried after an hour")


def test_the_same_text_is_published_to_bluesky_and_mastodon(worker, alice_api, instance, pds):
    author = pds.create_account("both")
    bluesky = alice_api.post(
        "/api/accounts/bluesky/",
        {"handle": author.handle, "app_password": author.password, "service_url": pds.url},
        format="json",
    ).json()
    mastodon = connect(alice_api, instance.url, instance.token)
    text = "Same words, two networks \U0001f30a #hayon"

    response = alice_api.post(
        "/api/posts/", {"text": text, "accounts": [bluesky["id"], mastodon["id"]]}, format="json"
    )
    assert response.status_code == 201, response.json()

    def both_published():
        """both deliveries are published"""
        statuses = Delivery.objects.filter(post_id=response.json()["id"]).values_list(
            "status", flat=True
        )
        return sorted(statuses) == ["published", "published"]

    wait_for(both_published, timeout=45)
    on_mastodon = Delivery.objects.get(post_id=response.json()["id"], platform="mastodon")
    assert "Same words, two networks" in status_on(instance, on_mastodon.remote_id)["content"]


def test_checking_the_account_reads_the_instance_limits_again(alice_api, big_instance):
    account = connect(alice_api, big_instance.url, big_instance.token)
    Account.objects.filter(pk=account["id"]).update(limits={"max_characters": 500})

    checked = alice_api.post(f"/api/accounts/{account['id']}/check/").json()

    assert checked["health"] == "active"
    assert checked["limits"]["max_characters"] == 5000

"""The main path end to end: a post made through the API appears on a real Bluesky PDS,
published by a real Celery worker over RabbitMQ."""

import pytest
from django.conf import settings

from posts.models import Delivery, Post
from posts.tasks import publish_delivery
from tests.conftest import wait_for
from tests.support.bluesky import connect, read_post, read_posts

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TEXT = "Launch day 🚀👩🏽‍💻 read https://example.com/notes?id=7 #hayon and more"
# As Bluesky's own app does, the link shows without its scheme; the facet keeps the full URL.
SHOWN = "Launch day 🚀👩🏽‍💻 read example.com/notes?id=7 #hayon and more"


@pytest.fixture
def pds_account(pds):
    return pds.create_account("alice")


@pytest.fixture
def bluesky(alice_api, pds, pds_account) -> dict:
    return connect(alice_api, pds.url, pds_account)


def byte_span(text: str, part: str) -> tuple[int, int]:
    start = text.encode().index(part.encode())
    return start, start + len(part.encode())


def published(post_id: int):
    def check():
        """every delivery of the post is published"""
        statuses = set(Delivery.objects.filter(post_id=post_id).values_list("status", flat=True))
        return statuses == {"published"}

    return check


def test_it_connects_an_account_and_never_returns_its_credentials(bluesky, pds_account, alice_api):
    assert bluesky["platform"] == "bluesky"
    assert bluesky["handle"] == pds_account.handle
    assert bluesky["remote_id"] == pds_account.did
    assert bluesky["health"] == "active"

    listed = alice_api.get("/api/accounts/").content.decode()
    assert pds_account.handle in listed
    assert pds_account.password not in listed
    assert "session" not in listed


def test_it_refuses_a_wrong_app_password_with_a_clear_message(alice_api, pds, pds_account):
    response = alice_api.post(
        "/api/accounts/bluesky/",
        {"handle": pds_account.handle, "app_password": "wrong-password", "service_url": pds.url},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "connect_failed"
    assert "Bluesky refused the handle or app password" in body["message"]


def test_a_post_appears_on_the_pds_with_facets_on_the_right_bytes(
    worker, pds, pds_account, bluesky, alice_api
):
    response = alice_api.post(
        "/api/posts/", {"text": TEXT, "accounts": [bluesky["id"]]}, format="json"
    )
    assert response.status_code == 201, response.json()
    post_id = response.json()["id"]
    assert response.json()["status"] in ("PENDING", "PROCESSING", "COMPLETED")

    wait_for(published(post_id), timeout=30)

    status = alice_api.get(f"/api/posts/{post_id}/status/").json()
    assert status["status"] == "COMPLETED"
    [delivery] = status["deliveries"]
    assert delivery["status"] == "published"
    assert delivery["attempts"] == 1
    assert delivery["error"] is None
    rkey = delivery["remote_id"]
    assert delivery["remote_url"] == (
        f"{settings.HAYON_BLUESKY_WEB_URL}/profile/{pds_account.did}/post/{rkey}"
    )

    record = read_post(pds.url, pds_account, rkey)
    assert record.text == SHOWN
    facets = {(f.index.byte_start, f.index.byte_end): f.features[0] for f in record.facets or []}
    link = facets[byte_span(SHOWN, "example.com/notes?id=7")]
    assert link.uri == "https://example.com/notes?id=7"
    tag = facets[byte_span(SHOWN, "#hayon")]
    assert tag.tag == "hayon"
    assert len(facets) == 2


def test_a_duplicated_message_publishes_once(worker, pds, pds_account, bluesky, alice_api):
    before = len(read_posts(pds.url, pds_account))
    response = alice_api.post(
        "/api/posts/",
        {"text": "Said once, delivered twice", "accounts": [bluesky["id"]]},
        format="json",
    )
    post_id = response.json()["id"]
    delivery = Delivery.objects.get(post_id=post_id)

    # The same message again, as a broker redelivery or a double send would produce.
    message = {"delivery_id": delivery.pk, "version": delivery.version, "platform": "bluesky"}
    publish_delivery.apply_async(kwargs=message)
    publish_delivery.apply_async(kwargs=message)

    wait_for(published(post_id), timeout=30)
    wait_for(lambda: len(read_posts(pds.url, pds_account)) == before + 1, timeout=10)
    delivery.refresh_from_db()
    assert delivery.attempt_count == 1
    assert delivery.attempts.count() == 1
    assert len(read_posts(pds.url, pds_account)) == before + 1


def test_it_refuses_text_over_the_bluesky_limit_and_creates_nothing(alice_api, bluesky):
    text = "é" * 301

    response = alice_api.post(
        "/api/posts/", {"text": text, "accounts": [bluesky["id"]]}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    [problem] = [e for e in body["errors"] if e["code"] == "text_too_long"]
    assert problem["account"] == bluesky["id"]
    assert problem["limit"] == 300
    assert problem["measured"] == 301
    assert bluesky["handle"] in problem["message"]
    assert Post.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_cancel_stops_a_scheduled_post(worker, pds, pds_account, bluesky, alice_api):
    response = alice_api.post(
        "/api/posts/",
        {
            "text": "Not today",
            "accounts": [bluesky["id"]],
            "scheduled_at": "2099-01-01T09:00:00",
            "timezone": "Europe/Berlin",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "too_far"

    response = alice_api.post(
        "/api/posts/",
        {"text": "Not today", "accounts": [bluesky["id"]], "scheduled_at": future(minutes=5)},
        format="json",
    )
    post_id = response.json()["id"]
    assert response.json()["status"] == "SCHEDULED"

    cancelled = alice_api.post(f"/api/posts/{post_id}/cancel/")

    assert cancelled.status_code == 200
    assert cancelled.json()["post"]["status"] == "CANCELLED"
    assert Delivery.objects.get(post_id=post_id).status == "cancelled"
    again = alice_api.post(f"/api/posts/{post_id}/cancel/")
    assert again.status_code == 409


def future(**delta) -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(**delta)).isoformat()

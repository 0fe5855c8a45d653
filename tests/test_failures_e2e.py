"""Every way a platform call goes wrong ends in a clear state, never a lost or double post.

Bluesky runs for real (the local PDS); failures are injected by a proxy in front of it, so
what the worker sees is what Bluesky would send, and what the PDS holds afterwards is the
truth about how many posts were made.
"""

import itertools
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from hayon.celery import app as celery_app
from hayon.topology import parking_queue
from platforms.models import Account
from posts import parking, resolution
from posts.models import Attempt, Delivery, Post
from tests.conftest import wait_for
from tests.fakes.bluesky_proxy import BlueskyProxy
from tests.fakes.posting import connect as connect_platform
from tests.fakes.server import Reply
from tests.support.bluesky import connect, records_with

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SERVER_ERROR = Reply(503, {"error": "InternalServerError", "message": "Internal Server Error"})


@pytest.fixture(scope="module")
def proxy(pds):
    server = BlueskyProxy(pds.url).start()
    yield server
    server.stop()


@pytest.fixture
def account(alice_api, pds, proxy):
    proxy.reset()
    return connect(alice_api, pds.url, pds.create_account("flaky"), service_url=proxy.url)


def post(api, account, text: str) -> int:
    response = api.post("/api/posts/", {"text": text, "accounts": [account["id"]]}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def delivery_in(post_id: int, *statuses: str):
    def check():
        """the delivery reaches the expected state"""
        delivery = Delivery.objects.get(post_id=post_id)
        return delivery if delivery.status in statuses else None

    return check


def post_in(post_id: int, status: str):
    def check():
        """the post reaches the expected status (it follows its deliveries)"""
        return Post.objects.get(pk=post_id).status == status

    return check


def attempt_gaps(delivery: Delivery) -> list[float]:
    attempts = list(Attempt.objects.filter(delivery=delivery).order_by("number"))
    return [
        (later.started_at - earlier.finished_at).total_seconds()
        for earlier, later in itertools.pairwise(attempts)
    ]


def test_two_transient_failures_then_success_publish_once(worker, pds, proxy, account, alice_api):
    proxy.fail_next("createRecord", SERVER_ERROR, SERVER_ERROR)

    post_id = post(alice_api, account, "Third time lucky")

    delivery = wait_for(delivery_in(post_id, "published"), timeout=30)
    assert delivery.attempt_count == 3
    wait_for(post_in(post_id, "COMPLETED"), timeout=5)
    # Delays 1 s then 2 s (tests/conftest.py WORKER_SETTINGS), 10% jitter, whole seconds.
    first, second = attempt_gaps(delivery)
    assert 0.9 <= first < 2.5
    assert 1.8 <= second < 3.5
    assert records_with(pds.url, account["login"], "Third time lucky") == 1


def test_four_transient_failures_park_the_delivery_and_replay_publishes_once(
    worker, pds, proxy, account, alice_api
):
    proxy.fail_next("createRecord", *[SERVER_ERROR] * 4)

    post_id = post(alice_api, account, "Parked, then replayed")

    delivery = wait_for(delivery_in(post_id, "parked"), timeout=40)
    assert delivery.attempt_count == 4
    # In words a person can act on, not the SDK's repr of its response object.
    assert "(HTTP 503: Internal Server Error)" in delivery.error_message
    assert "Response(" not in delivery.error_message
    wait_for(post_in(post_id, "FAILED"), timeout=5)
    parked = wait_for(
        lambda: [m for m in parking.inspect() if m.delivery_id == delivery.pk], timeout=10
    )
    assert parked[0].platform == "bluesky"

    report = parking.replay({delivery.pk})

    assert report.replayed == [delivery.pk]
    delivery = wait_for(delivery_in(post_id, "published"), timeout=30)
    assert delivery.attempt_count == 5
    assert records_with(pds.url, account["login"], "Parked, then replayed") == 1
    assert not [m for m in parking.inspect() if m.delivery_id == delivery.pk]


@pytest.fixture
def empty_parking_lot():
    """Start without messages parked by earlier tests, so an empty lot at the end is ours."""
    with celery_app.connection_for_write() as connection:
        queue = parking_queue()(connection.default_channel)
        queue.declare()
        queue.purge()


def parked_message_of(delivery: Delivery):
    def check():
        """the delivery's message reaches the parking lot"""
        return [m for m in parking.inspect() if m.delivery_id == delivery.pk]

    return wait_for(check, timeout=10)[0]


def parked_post(proxy, api, account, text: str) -> Delivery:
    """Post `text` while Bluesky fails every attempt; return its delivery once parked."""
    proxy.fail_next("createRecord", *[SERVER_ERROR] * 4)
    delivery = wait_for(delivery_in(post(api, account, text), "parked"), timeout=40)
    parked_message_of(delivery)
    return delivery


def replay_in_admin(admin_client, delivery: Delivery) -> str:
    response = admin_client.post(
        reverse("admin:posts_delivery_changelist"),
        {"action": "replay", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert response.status_code == 200
    return response.content.decode()


def test_the_admin_replays_a_parked_delivery_and_empties_the_parking_lot(
    worker, pds, proxy, account, alice_api, admin_client, empty_parking_lot
):
    delivery = parked_post(proxy, alice_api, account, "Parked, then replayed from the admin")

    page = replay_in_admin(admin_client, delivery)

    assert f"Delivery {delivery.pk} sent again" in page
    wait_for(delivery_in(delivery.post_id, "published"), timeout=30)
    assert records_with(pds.url, account["login"], "Parked, then replayed from the admin") == 1
    assert len(proxy.calls_named("createRecord")) == 5
    assert parking.inspect() == []


def test_the_admin_replays_a_parked_delivery_whose_message_was_purged(
    worker, pds, proxy, account, alice_api, admin_client, empty_parking_lot
):
    delivery = parked_post(proxy, alice_api, account, "Parked, message purged")
    with celery_app.connection_for_write() as connection:
        parking_queue()(connection.default_channel).purge()

    page = replay_in_admin(admin_client, delivery)

    assert f"Delivery {delivery.pk} sent again" in page
    wait_for(delivery_in(delivery.post_id, "published"), timeout=30)
    assert records_with(pds.url, account["login"], "Parked, message purged") == 1
    assert parking.inspect() == []


def test_the_replay_command_replays_what_is_parked_and_drops_what_was_resolved(
    worker, pds, proxy, account, alice_api, empty_parking_lot
):
    proxy.fail_next("createRecord", *[SERVER_ERROR] * 8)
    waiting_id = post(alice_api, account, "Waits for the on-call")
    resolved_id = post(alice_api, account, "Posted by hand instead")
    waiting = wait_for(delivery_in(waiting_id, "parked"), timeout=60)
    resolved = wait_for(delivery_in(resolved_id, "parked"), timeout=60)
    reason = parked_message_of(waiting).reason
    parked_message_of(resolved)
    resolution.mark_failed(resolved, "Posted by hand on the phone", by="alice")
    listing, replay = StringIO(), StringIO()

    call_command("replay_parked", "--list", stdout=listing)
    call_command("replay_parked", stdout=replay)

    assert f"delivery={waiting.pk} platform=bluesky version={waiting.version} " in (
        listing.getvalue()
    )
    assert reason == "rejected"
    assert replay.getvalue().splitlines() == [
        f"Replayed 1 parked delivery: {waiting.pk}.",
        f"Dropped 1 stale message of deliveries no longer parked: {resolved.pk}.",
    ]
    wait_for(delivery_in(waiting_id, "published"), timeout=30)
    assert records_with(pds.url, account["login"], "Waits for the on-call") == 1
    assert records_with(pds.url, account["login"], "Posted by hand instead") == 0
    assert Delivery.objects.get(pk=resolved.pk).status == "failed"
    assert parking.inspect() == []
    again = StringIO()
    call_command("replay_parked", "--list", stdout=again)
    assert again.getvalue() == "The parking lot is empty.\n"


def test_a_rate_limit_is_honoured_before_the_next_attempt(worker, proxy, account, alice_api):
    limited = Reply(
        429,
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        headers={"retry-after": "3", "ratelimit-reset": str(int(time.time()) + 3)},
    )
    proxy.fail_next("createRecord", limited)

    post_id = post(alice_api, account, "Slow down")

    delivery = wait_for(delivery_in(post_id, "published"), timeout=30)
    first, second = proxy.calls_named("createRecord")[:2]
    assert second.at - first.at >= 3.0
    outcomes = list(delivery.attempts.values_list("outcome", flat=True))
    assert outcomes == ["rate_limited", "published"]


def test_an_expired_token_is_refreshed_once_for_five_deliveries_in_flight(
    worker, pds, proxy, account, alice_api
):
    warm_up = post(alice_api, account, "Before the token expires")
    wait_for(delivery_in(warm_up, "published"), timeout=30)
    version = Account.objects.get(pk=account["id"]).credentials_version
    # The PDS's access tokens carry no nonce: one issued in the same second as the login
    # would be byte-identical to the expired one.
    time.sleep(1.1)
    proxy.expire_access_tokens()

    texts = [f"After the token expired {n}" for n in range(5)]
    post_ids = [post(alice_api, account, text) for text in texts]

    for post_id in post_ids:
        wait_for(delivery_in(post_id, "published"), timeout=40)
    assert len(proxy.calls_named("refreshSession")) == 1
    assert Account.objects.get(pk=account["id"]).credentials_version == version + 1
    for text in texts:
        assert records_with(pds.url, account["login"], text) == 1


def test_a_refused_refresh_marks_the_account_for_reconnection(
    worker, pds, proxy, account, alice_api
):
    warm_up = post(alice_api, account, "Works for now")
    wait_for(delivery_in(warm_up, "published"), timeout=30)
    time.sleep(1.1)
    proxy.expire_access_tokens()
    proxy.fail_next("refreshSession", Reply(400, {"error": "ExpiredToken"}))
    proxy.fail_next(
        "createSession",
        Reply(
            401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
        ),
    )

    post_ids = [post(alice_api, account, f"Never makes it {n}") for n in range(2)]

    for post_id in post_ids:
        delivery = wait_for(delivery_in(post_id, "failed"), timeout=30)
        assert "reconnect Bluesky account" in delivery.error_message
    stored = Account.objects.get(pk=account["id"])
    assert stored.health == "needs_reconnect"
    assert stored.health_reason
    refused = alice_api.post(
        "/api/posts/", {"text": "Anyone there?", "accounts": [account["id"]]}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "account_needs_reconnect"
    assert "reconnect Bluesky account" in refused.json()["message"]


def test_a_worker_killed_mid_call_leaves_exactly_one_post(worker, pds, proxy, account, alice_api):
    # The PDS creates the record, then the answer hangs until the worker is gone.
    proxy.fail_next("createRecord", Reply(200, {}, delay=20, after_handling=True))

    post_id = post(alice_api, account, "Survives a crash")
    wait_for(lambda: records_with(pds.url, account["login"], "Survives a crash") == 1, timeout=30)
    worker.kill()
    worker.start()

    delivery = wait_for(delivery_in(post_id, "published"), timeout=40)
    outcomes = list(delivery.attempts.values_list("outcome", flat=True))
    assert outcomes == ["interrupted", "reconciled"]
    assert records_with(pds.url, account["login"], "Survives a crash") == 1


def test_an_answer_lost_after_the_post_was_made_is_reconciled_not_repeated(
    worker, pds, proxy, account, alice_api
):
    proxy.fail_next("createRecord", Reply(504, "Gateway Timeout", after_handling=True))

    post_id = post(alice_api, account, "Made, but nobody heard")

    delivery = wait_for(delivery_in(post_id, "published"), timeout=30)
    outcomes = list(delivery.attempts.values_list("outcome", flat=True))
    assert outcomes == ["unconfirmed", "reconciled"]
    assert records_with(pds.url, account["login"], "Made, but nobody heard") == 1


def test_a_refused_post_fails_at_once_with_the_platform_reason(worker, proxy, account, alice_api):
    proxy.fail_next(
        "createRecord",
        Reply(400, {"error": "InvalidRequest", "message": "Record/text must not be that long"}),
    )

    post_id = post(alice_api, account, "Refused outright")

    delivery = wait_for(delivery_in(post_id, "failed"), timeout=30)
    assert delivery.attempt_count == 1
    assert "Record/text must not be that long" in delivery.error_message
    wait_for(post_in(post_id, "FAILED"), timeout=5)


def test_retrying_a_failed_delivery_publishes_it(worker, pds, proxy, account, alice_api):
    proxy.fail_next("createRecord", Reply(400, {"error": "InvalidRequest", "message": "No"}))
    post_id = post(alice_api, account, "Second chance")
    delivery = wait_for(delivery_in(post_id, "failed"), timeout=30)

    response = alice_api.post(f"/api/posts/{post_id}/deliveries/{delivery.pk}/retry/")

    assert response.status_code == 200
    wait_for(delivery_in(post_id, "published"), timeout=30)
    assert records_with(pds.url, account["login"], "Second chance") == 1
    again = alice_api.post(f"/api/posts/{post_id}/deliveries/{delivery.pk}/retry/")
    assert again.status_code == 409


def test_a_timeout_after_creating_without_an_idempotency_handle_is_unconfirmed(
    fakes, worker, alice_api
):
    facebook = fakes["facebook"]
    facebook.reset()
    user_id, user_token = facebook.add_user("Alice")
    page_id, _ = facebook.add_page(user_id, "Alice Bakes")
    account = connect_platform(
        alice_api, "facebook", {"access_token": user_token, "page_id": page_id}
    )
    # Facebook makes the post but the answer never comes back in time, and its listing of
    # the Page's posts lags behind, so Hayon cannot tell whether the post exists.
    facebook.fail_next("feed", Reply(504, "Gateway Time-out", after_handling=True))
    facebook.fail_next("published", Reply(200, {"data": []}))

    post_id = post(alice_api, account, "Did it go out?")

    delivery = wait_for(delivery_in(post_id, "unconfirmed"), timeout=30)
    assert "check the Page" in delivery.error_message
    time.sleep(2)
    assert Delivery.objects.get(pk=delivery.pk).status == "unconfirmed"
    assert len(facebook.published_posts()) == 1
    assert len(facebook.calls_named("feed")) == 1


def test_retrying_a_parked_delivery_through_the_api_takes_its_message_out_of_the_lot(
    worker, pds, proxy, account, alice_api, empty_parking_lot
):
    delivery = parked_post(proxy, alice_api, account, "Parked, retried by its author")

    response = alice_api.post(f"/api/posts/{delivery.post_id}/deliveries/{delivery.pk}/retry/")

    assert response.status_code == 200, response.json()
    assert parking.inspect() == []
    wait_for(delivery_in(delivery.post_id, "published"), timeout=30)
    assert records_with(pds.url, account["login"], "Parked, retried by its author") == 1

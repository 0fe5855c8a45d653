"""Threads through the API, the real worker and the fake graph.threads.net: text, image and
carousel containers, containers that fail or expire, the daily quota, throttling, an expired
token, and never publishing twice after an ambiguous publish."""

from datetime import timedelta

import pytest
from django.utils import timezone

from platforms.models import Account
from posts.models import Delivery
from tests.fakes.meta import graph_error, hang_up
from tests.fakes.posting import (
    connect,
    create_post,
    delivery_in,
    media_key,
    reconnect_reason,
    settled,
    uploaded_image,
)
from tests.fakes.server import Reply

# The calls of one post published in one go, after its containers are made.
PUBLISH = ["status", "publish", "permalink"]

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def threads(fakes, worker, platform_env):
    fake = fakes["threads"]
    fake.reset()
    return fake


@pytest.fixture
def account(alice_api, threads) -> dict:
    _, token = threads.add_user("alice.threads")
    account = connect(alice_api, "threads", {"access_token": token})
    threads.calls.clear()
    return account


def published_delivery(post_id: int, thread: dict) -> Delivery:
    """Return the post's delivery, checked to hold the thread's id and permalink."""
    delivery = Delivery.objects.get(post_id=post_id)
    assert (delivery.remote_id, delivery.remote_url) == (thread["id"], thread["permalink"])
    return delivery


def test_it_publishes_a_text_post(alice_api, threads, account):
    post = create_post(alice_api, "Just words “quoted” 🧵", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert threads.route_names() == ["quota", "container", *PUBLISH]
    container = threads.calls_named("container")[0].form()
    assert container["media_type"] == ["TEXT"]
    assert container["text"] == ["Just words “quoted” 🧵"]
    [thread] = threads.published_posts()
    published_delivery(post["id"], thread)


def test_it_publishes_one_image(alice_api, threads, account):
    image = uploaded_image(alice_api)

    post = create_post(alice_api, "A picture", [account["id"]], [image], alt="Orange")

    assert settled(post["id"]).status == "COMPLETED"
    assert threads.route_names() == ["quota", "container", *PUBLISH]
    container = threads.calls_named("container")[0].form()
    assert container["media_type"] == ["IMAGE"]
    assert media_key(image) in container["image_url"][0]
    assert container["alt_text"] == ["Orange"]
    assert container["text"] == ["A picture"]
    assert "is_carousel_item" not in container
    [thread] = threads.published_posts()
    published_delivery(post["id"], thread)


def test_it_publishes_several_images_as_a_carousel(alice_api, threads, account):
    images = [uploaded_image(alice_api) for _ in range(2)]

    post = create_post(alice_api, "Two pictures", [account["id"]], images, alt="Blue")

    assert settled(post["id"]).status == "COMPLETED"
    assert threads.route_names() == [
        "quota",
        *["container"] * 2,
        *["status"] * 2,
        "container",
        *PUBLISH,
    ]
    *children, parent = [call.form() for call in threads.calls_named("container")]
    for image, child in zip(images, children, strict=True):
        assert child["media_type"] == ["IMAGE"]
        assert media_key(image) in child["image_url"][0]
        assert child["is_carousel_item"] == ["true"]
        assert child["alt_text"] == ["Blue"]
        assert "text" not in child
    assert parent["media_type"] == ["CAROUSEL"]
    assert parent["text"] == ["Two pictures"]
    first, second, _ = threads.containers
    assert parent["children"] == [f"{first},{second}"]
    [thread] = threads.published_posts()
    published_delivery(post["id"], thread)


def test_it_respects_the_250_posts_a_day_quota(alice_api, threads, account):
    threads.quota_usage = 250

    post = create_post(alice_api, "One too many", [account["id"]])

    delivery = delivery_in(post["id"], "retrying")
    assert delivery.error_code == "quota_exhausted"
    assert "250 API posts a day" in delivery.error_message
    assert delivery.next_attempt_at > timezone.now() + timedelta(minutes=30)
    assert threads.route_names() == ["quota"]
    assert threads.published_posts() == []


def test_it_waits_for_a_container_still_in_progress(alice_api, threads, account):
    threads.script_container("IN_PROGRESS", "IN_PROGRESS", "FINISHED")

    post = create_post(alice_api, "Slow one", [account["id"]], [uploaded_image(alice_api)])

    assert settled(post["id"]).status == "COMPLETED"
    assert threads.route_names() == ["quota", "container", "status", "status", *PUBLISH]
    assert Delivery.objects.get(post_id=post["id"]).attempt_count == 1


def test_it_fails_clearly_when_threads_cannot_process_the_image(alice_api, threads, account):
    threads.script_container("ERROR")

    post = create_post(alice_api, "Broken", [account["id"]], [uploaded_image(alice_api)])

    assert settled(post["id"]).status == "FAILED"
    assert threads.route_names() == ["quota", "container", "status"]
    delivery = Delivery.objects.get(post_id=post["id"])
    assert (delivery.status, delivery.error_code) == ("failed", "media_failed")
    assert "Threads could not process the media" in delivery.error_message
    assert "Media download has failed" in delivery.error_message
    assert threads.published_posts() == []


def test_it_fails_a_carousel_whose_item_threads_cannot_process(alice_api, threads, account):
    threads.script_container("ERROR")
    images = [uploaded_image(alice_api) for _ in range(2)]

    post = create_post(alice_api, "One bad apple", [account["id"]], images)

    assert settled(post["id"]).status == "FAILED"
    assert threads.route_names() == ["quota", "container", "container", "status"]
    assert Delivery.objects.get(post_id=post["id"]).error_code == "media_failed"
    assert threads.published_posts() == []


def test_it_makes_a_new_container_when_the_old_one_expired(alice_api, threads, account):
    threads.script_container("EXPIRED")

    post = create_post(alice_api, "Second chance", [account["id"]], [uploaded_image(alice_api)])

    assert settled(post["id"]).status == "COMPLETED"
    assert threads.route_names() == [
        "quota",
        "container",
        "status",
        "quota",
        "container",
        *PUBLISH,
    ]
    first, second = threads.containers
    [thread] = threads.published_posts()
    assert thread["container"] == second != first
    delivery = published_delivery(post["id"], thread)
    assert delivery.platform_state["creation_id"] == second
    assert [a.outcome for a in delivery.attempts.order_by("number")] == [
        "transient",
        "published",
    ]


@pytest.mark.parametrize(
    "failure",
    [
        Reply(500, graph_error(2, "An unexpected error has occurred.").body, after_handling=True),
        Reply(504, "Gateway Timeout", after_handling=True),
        hang_up(after_handling=True),
    ],
    ids=["500", "504", "no-answer"],
)
def test_it_never_publishes_twice_after_an_ambiguous_publish(alice_api, threads, account, failure):
    # Threads publishes, then the answer is lost: the worker reads the container back
    # (PUBLISHED) and finds the thread instead of publishing again.
    threads.fail_next("publish", failure)

    post = create_post(alice_api, "Exactly once", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert threads.route_names() == [
        "quota",
        "container",
        "status",
        "publish",
        "status",
        "listing",
    ]
    [thread] = threads.published_posts()
    delivery = published_delivery(post["id"], thread)
    assert [a.outcome for a in delivery.attempts.order_by("number")] == [
        "unconfirmed",
        "reconciled",
    ]


def test_it_publishes_the_same_container_when_the_lost_publish_made_nothing(
    alice_api, threads, account
):
    threads.fail_next("publish", Reply(504, "Gateway Timeout"))

    post = create_post(alice_api, "Still once", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    # The retry reads the container back (FINISHED, not PUBLISHED), then publishes it.
    first_try = ["quota", "container", "status", "publish"]
    assert threads.route_names() == [*first_try, "status", "quota", "status", *PUBLISH]
    [container_id] = threads.containers
    assert {c.form()["creation_id"][0] for c in threads.calls_named("publish")} == {container_id}
    [thread] = threads.published_posts()
    published_delivery(post["id"], thread)


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_it_waits_when_threads_throttles(alice_api, threads, account, code):
    threads.fail_next("publish", graph_error(code, "Application request limit reached"))

    post = create_post(alice_api, "Busy day", [account["id"]])

    delivery = delivery_in(post["id"], "retrying")
    assert delivery.error_code == "rate_limited"
    assert "throttling" in delivery.error_message
    wait = (delivery.next_attempt_at - delivery.attempts.last().finished_at).total_seconds()
    assert wait >= 5 * 60
    assert threads.route_names() == ["quota", "container", "status", "publish"]
    # The next attempt publishes the container already made rather than a new one.
    [container_id] = threads.containers
    assert delivery.platform_state["creation_id"] == container_id
    assert threads.published_posts() == []


def test_it_renews_a_refused_token_once_and_publishes(alice_api, threads, account):
    threads.fail_next("container", graph_error(190, "Error validating access token", subcode=463))

    post = create_post(alice_api, "Fresh token", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert threads.route_names() == [
        "quota",
        "container",
        "refresh_token",
        "quota",
        "container",
        *PUBLISH,
    ]
    [renewal] = threads.calls_named("refresh_token")
    assert renewal.query["grant_type"] == ["th_refresh_token"]
    stored = Account.objects.get(pk=account["id"])
    assert stored.credentials_version == 2
    assert stored.credentials["access_token"] in threads.tokens
    [thread] = threads.published_posts()
    published_delivery(post["id"], thread)


def test_it_asks_to_reconnect_when_threads_refuses_to_renew(alice_api, threads, account):
    threads.fail_next("quota", graph_error(190, "Error validating access token", subcode=460))
    threads.refusing_renewal = True

    post = create_post(alice_api, "Locked out", [account["id"]])

    assert settled(post["id"]).status == "FAILED"
    assert threads.route_names() == ["quota", "refresh_token"]
    assert Delivery.objects.get(post_id=post["id"]).error_code == "reconnect_required"
    assert "refused to renew" in reconnect_reason(alice_api, account["id"])


def test_it_asks_to_reconnect_when_the_renewed_token_is_refused_too(alice_api, threads, account):
    refused = graph_error(190, "Error validating access token", subcode=460)
    threads.fail_next("quota", refused, refused)

    post = create_post(alice_api, "Still locked out", [account["id"]])

    assert settled(post["id"]).status == "FAILED"
    # One renewal, never a loop of them.
    assert threads.route_names() == ["quota", "refresh_token", "quota"]
    delivery = Delivery.objects.get(post_id=post["id"])
    assert delivery.error_code == "reconnect_required"
    assert Account.objects.get(pk=account["id"]).health == "needs_reconnect"

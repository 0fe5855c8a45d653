"""Facebook Pages through the API, the real worker and the fake graph.facebook.com."""

import json
import time

import pytest

from platforms.models import Account
from posts.models import Delivery
from tests.fakes.meta import graph_error
from tests.fakes.posting import (
    connect,
    create_post,
    delivery_in,
    media_key,
    settled,
    uploaded_image,
)
from tests.fakes.server import Reply

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def facebook(fakes, worker, platform_env):
    fake = fakes["facebook"]
    fake.reset()
    return fake


@pytest.fixture
def page(facebook) -> dict:
    user_id, user_token = facebook.add_user("Alice")
    page_id, page_token = facebook.add_page(user_id, "Alice Bakes")
    return {"id": page_id, "token": page_token, "user_token": user_token}


@pytest.fixture
def account(alice_api, facebook, page) -> dict:
    account = connect(
        alice_api, "facebook", {"access_token": page["user_token"], "page_id": page["id"]}
    )
    facebook.calls.clear()
    return account


def test_it_stores_the_page_token_not_the_user_token(alice_api, facebook, page):
    account = connect(
        alice_api, "facebook", {"access_token": page["user_token"], "page_id": page["id"]}
    )

    assert account["handle"] == "Alice Bakes"
    stored = Account.objects.get(pk=account["id"])
    assert stored.credentials == {"access_token": page["token"]}


def test_it_refuses_a_page_the_token_cannot_post_as(alice_api, facebook, page):
    _, stranger_token = facebook.add_user("Mallory")

    response = alice_api.post(
        "/api/accounts/facebook/",
        {"access_token": stranger_token, "page_id": page["id"]},
        format="json",
    )

    assert response.status_code == 400
    assert "cannot post as Page" in response.json()["message"]


@pytest.mark.parametrize(
    "text",
    [
        "New menu https://example.com/menu",
        "Our new menu is up: https://example.com/menu.",
        "New menu (https://example.com/menu), starting today",
    ],
)
def test_it_publishes_text_with_its_link_without_the_punctuation_around_it(
    alice_api, facebook, account, page, text
):
    post = create_post(alice_api, text, [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert facebook.route_names() == ["feed", "permalink"]
    feed = facebook.calls_named("feed")[0].form()
    assert feed["message"] == [text]
    assert feed["link"] == ["https://example.com/menu"]
    [made] = facebook.published_posts()
    delivery = Delivery.objects.get(post_id=post["id"])
    assert (delivery.remote_id, delivery.remote_url) == (made["id"], made["permalink_url"])


def test_it_publishes_one_photo_with_its_caption(alice_api, facebook, account):
    image = uploaded_image(alice_api)

    post = create_post(alice_api, "Fresh bread", [account["id"]], [image])

    assert settled(post["id"]).status == "COMPLETED"
    assert facebook.route_names() == ["photos", "permalink"]
    photo = facebook.calls_named("photos")[0].form()
    assert media_key(image) in photo["url"][0]
    assert photo["message"] == ["Fresh bread"]


def test_it_publishes_several_photos_in_one_feed_post(alice_api, facebook, account):
    images = [uploaded_image(alice_api) for _ in range(3)]

    post = create_post(alice_api, "Three loaves", [account["id"]], images)

    assert settled(post["id"]).status == "COMPLETED"
    assert facebook.route_names() == ["photos", "photos", "photos", "feed", "permalink"]
    uploads = [call.form() for call in facebook.calls_named("photos")]
    assert all(upload["published"] == ["false"] for upload in uploads)
    feed = facebook.calls_named("feed")[0].form()
    attached = [json.loads(feed[f"attached_media[{i}]"][0])["media_fbid"] for i in range(3)]
    assert attached == list(facebook.photos_made)
    [made] = facebook.published_posts()
    assert made["photos"] == attached


def test_it_waits_as_long_as_facebook_throttles(alice_api, facebook, account):
    usage = {"123": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    facebook.fail_next(
        "feed",
        graph_error(
            32,
            "Page request limit reached",
            status=403,
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        ),
    )

    post = create_post(alice_api, "Busy day", [account["id"]])

    delivery = delivery_in(post["id"], "retrying")
    assert delivery.error_code == "rate_limited"
    wait = (delivery.next_attempt_at - delivery.attempts.last().finished_at).total_seconds()
    assert 7 * 60 <= wait <= 7 * 60 * 1.3


def test_it_asks_to_reconnect_when_the_page_token_is_refused(alice_api, facebook, account, page):
    facebook.revoke(page["token"])

    post = create_post(alice_api, "Anyone there?", [account["id"]])

    assert settled(post["id"]).status == "FAILED"
    shown = alice_api.get(f"/api/accounts/{account['id']}/").json()
    assert shown["health"] == "needs_reconnect"
    assert "Page token was refused" in shown["health_reason"]


def test_it_asks_to_reconnect_when_it_holds_a_personal_token(alice_api, facebook, account, page):
    stored = Account.objects.get(pk=account["id"])
    stored.store_credentials({"access_token": page["user_token"]})

    post = create_post(alice_api, "Posting as me", [account["id"]])

    assert settled(post["id"]).status == "FAILED"
    delivery = Delivery.objects.get(post_id=post["id"])
    assert delivery.error_code == "reconnect_required"
    assert Account.objects.get(pk=account["id"]).health == "needs_reconnect"


def test_it_finds_a_post_made_before_an_ambiguous_answer(alice_api, facebook, account):
    facebook.fail_next(
        "feed",
        Reply(500, graph_error(2, "Service temporarily unavailable").body, after_handling=True),
    )

    post = create_post(alice_api, "Only once please", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert facebook.route_names() == ["feed", "published"]
    [made] = facebook.published_posts()
    assert Delivery.objects.get(post_id=post["id"]).remote_id == made["id"]


def unconfirmed_after_a_500(alice_api, facebook, account, text: str) -> Delivery:
    """Facebook makes the post, answers 500, and does not list it yet: return the delivery."""
    facebook.fail_next(
        "feed", Reply(500, graph_error(1, "An unknown error occurred").body, after_handling=True)
    )
    facebook.fail_next("published", Reply(200, {"data": []}))
    post = create_post(alice_api, text, [account["id"]])
    return delivery_in(post["id"], "unconfirmed")


def test_it_leaves_a_500_after_creating_unconfirmed_while_the_page_does_not_list_it(
    alice_api, facebook, account
):
    delivery = unconfirmed_after_a_500(alice_api, facebook, account, "Was it posted?")

    assert "check the Page" in delivery.error_message
    time.sleep(2)
    assert Delivery.objects.get(pk=delivery.pk).status == "unconfirmed"
    assert len(facebook.published_posts()) == 1
    assert facebook.route_names() == ["feed", "published"]


def test_it_records_the_post_when_a_person_retries_once_the_page_lists_it(
    alice_api, facebook, account
):
    delivery = unconfirmed_after_a_500(alice_api, facebook, account, "Listed late")

    retried = alice_api.post(f"/api/posts/{delivery.post_id}/deliveries/{delivery.pk}/retry/")

    assert retried.status_code == 200
    assert settled(delivery.post_id).status == "COMPLETED"
    [made] = facebook.published_posts()
    delivery.refresh_from_db()
    assert (delivery.remote_id, delivery.remote_url) == (made["id"], made["permalink_url"])
    assert len(facebook.calls_named("feed")) == 1
    outcomes = list(delivery.attempts.order_by("number").values_list("outcome", flat=True))
    assert outcomes == ["unconfirmed", "unconfirmed", "reconciled"]


def test_it_posts_when_a_person_retries_and_the_page_still_lists_nothing(
    alice_api, facebook, account
):
    # A 502 from a proxy that never reached Facebook: nothing was made.
    facebook.fail_next("feed", Reply(502, "Bad Gateway"))
    post = create_post(alice_api, "Never made the first time", [account["id"]])
    delivery = delivery_in(post["id"], "unconfirmed")
    assert facebook.published_posts() == []

    alice_api.post(f"/api/posts/{post['id']}/deliveries/{delivery.pk}/retry/")

    assert settled(post["id"]).status == "COMPLETED"
    [made] = facebook.published_posts()
    assert Delivery.objects.get(pk=delivery.pk).remote_id == made["id"]
    assert facebook.route_names() == ["feed", "published", "published", "feed", "permalink"]


def test_it_publishes_plain_text_without_a_link(alice_api, facebook, account):
    post = create_post(alice_api, "Closed on Monday", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert facebook.route_names() == ["feed", "permalink"]
    feed = facebook.calls_named("feed")[0].form()
    assert feed["message"] == ["Closed on Monday"]
    assert "link" not in feed
    [made] = facebook.published_posts()
    delivery = Delivery.objects.get(post_id=post["id"])
    assert (delivery.remote_id, delivery.remote_url) == (made["id"], made["permalink_url"])


@pytest.mark.parametrize("photos", [1, 3])
def test_it_stores_the_permalink_of_a_photo_post(alice_api, facebook, account, photos):
    images = [uploaded_image(alice_api) for _ in range(photos)]

    post = create_post(alice_api, "Crumb shots", [account["id"]], images)

    assert settled(post["id"]).status == "COMPLETED"
    [made] = facebook.published_posts()
    assert len(made["photos"]) == photos
    delivery = Delivery.objects.get(post_id=post["id"])
    assert (delivery.remote_id, delivery.remote_url) == (made["id"], made["permalink_url"])


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001])
def test_it_treats_each_throttling_code_as_a_rate_limit(alice_api, facebook, account, code):
    # Facebook throttles with HTTP 400 or 403 and an error code, never 429.
    facebook.fail_next("feed", graph_error(code, "Application request limit reached"))

    post = create_post(alice_api, "Slow down", [account["id"]])

    delivery = delivery_in(post["id"], "retrying")
    assert delivery.error_code == "rate_limited"
    wait = (delivery.next_attempt_at - delivery.attempts.last().finished_at).total_seconds()
    # Without X-Business-Use-Case-Usage the wait is five minutes.
    assert 5 * 60 <= wait <= 5 * 60 * 1.3
    assert facebook.published_posts() == []


def test_it_keeps_the_photos_uploaded_before_a_throttle(alice_api, facebook, account):
    throttled = graph_error(4, "Application request limit reached")
    uploads = []

    def second_upload_throttled(call):
        uploads.append(call)
        return throttled if len(uploads) == 2 else None

    facebook.chaos["photos"] = second_upload_throttled
    images = [uploaded_image(alice_api) for _ in range(3)]

    post = create_post(alice_api, "Three, slowly", [account["id"]], images)

    delivery = delivery_in(post["id"], "retrying")
    assert delivery.error_code == "rate_limited"
    assert facebook.route_names() == ["photos", "photos"]
    assert delivery.platform_state["photo_ids"] == list(facebook.photos_made)
    assert len(facebook.photos_made) == 1
    assert facebook.published_posts() == []

"""Tumblr through the API, the real worker and the fake api.tumblr.com: NPF multipart posts
with one or several images, tags, a 504 with or without the post made, rate and daily limits,
refusals, and the rotating refresh token."""

import json

import pytest

from media import storage
from platforms.models import Account
from posts.models import Delivery
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
from tests.fakes.tumblr import tumblr_error, unauthorized

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def published_delivery(post_id: int, posts: list[dict]) -> Delivery:
    """Return the post's delivery, checked to hold the only Tumblr post's id and URL."""
    [made] = posts
    delivery = Delivery.objects.get(post_id=post_id)
    assert delivery.remote_id == made["id_string"]
    assert delivery.remote_url == f"https://alicebakes.tumblr.com/post/{made['id_string']}"
    return delivery


@pytest.fixture
def tumblr(fakes, worker, platform_env):
    fake = fakes["tumblr"]
    fake.reset()
    return fake


@pytest.fixture
def tokens(tumblr) -> dict:
    _, answer = tumblr.add_user("alicebakes", "alicesideblog")
    return answer


@pytest.fixture
def account(alice_api, tumblr, tokens) -> dict:
    account = connect(
        alice_api,
        "tumblr",
        {
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "expires_in": tokens["expires_in"],
            "blog": "alicebakes",
        },
    )
    tumblr.calls.clear()
    return account


def test_it_connects_the_chosen_blog(account):
    assert account["handle"] == "alicebakes"
    assert account["remote_id"].startswith("t:")
    assert account["base_url"] == "https://alicebakes.tumblr.com"


def test_it_refuses_a_token_that_cannot_travel_in_a_header(alice_api, tumblr):
    response = alice_api.post(
        "/api/accounts/tumblr/",
        {"access_token": "tökén with spaces", "blog": "alicebakes"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "access_token"
    assert response.json()["errors"][0]["code"] == "invalid_token"
    assert tumblr.calls == [] and not Account.objects.exists()


def test_it_publishes_text_with_tags_from_its_hashtags(alice_api, tumblr, account):
    post = create_post(alice_api, "Sourdough day #baking #bread\nSecond line", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert tumblr.route_names() == ["create_post"]
    [made] = tumblr.posts
    assert made["body"]["content"] == [
        {"type": "text", "text": "Sourdough day #baking #bread"},
        {"type": "text", "text": "Second line"},
    ]
    assert made["body"]["tags"] == "baking,bread"
    delivery = Delivery.objects.get(post_id=post["id"])
    assert delivery.remote_id == made["id_string"]
    assert delivery.remote_url == f"https://alicebakes.tumblr.com/post/{made['id_string']}"


def test_it_sends_one_image_in_the_same_multipart_request(alice_api, tumblr, account):
    image = uploaded_image(alice_api)

    post = create_post(alice_api, "One loaf", [account["id"]], [image], alt="A round loaf")

    assert settled(post["id"]).status == "COMPLETED"
    assert tumblr.route_names() == ["create_post"]
    [call] = tumblr.calls
    assert list(call.parts) == ["json", "image0"]
    assert call.parts["json"]["content_type"] == "application/json"
    assert json.loads(call.parts["json"]["data"])["content"] == [
        {
            "type": "image",
            "media": [
                {"type": "image/jpeg", "identifier": "image0", "width": 1080, "height": 1080}
            ],
            "alt_text": "A round loaf",
        },
        {"type": "text", "text": "One loaf"},
    ]
    assert call.parts["image0"]["content_type"] == "image/jpeg"
    assert call.parts["image0"]["data"] == storage.read_bytes(media_key(image))
    published_delivery(post["id"], tumblr.posts)


def test_it_sends_images_in_the_same_multipart_request(alice_api, tumblr, account):
    images = [uploaded_image(alice_api) for _ in range(2)]

    post = create_post(alice_api, "Two loaves", [account["id"]], images, alt="Bread")

    assert settled(post["id"]).status == "COMPLETED"
    assert tumblr.route_names() == ["create_post"]
    [call] = tumblr.calls
    assert list(call.parts) == ["json", "image0", "image1"]
    assert call.parts["json"]["content_type"] == "application/json"
    body = json.loads(call.parts["json"]["data"])
    image_blocks = [block for block in body["content"] if block["type"] == "image"]
    assert [b["media"][0]["identifier"] for b in image_blocks] == ["image0", "image1"]
    assert all(b["alt_text"] == "Bread" for b in image_blocks)
    assert call.parts["image0"]["data"][:2] == b"\xff\xd8"
    published_delivery(post["id"], tumblr.posts)


def test_it_reconciles_a_504_that_created_the_post(alice_api, tumblr, account):
    tumblr.fail_next("create_post", Reply(504, "Gateway Timeout", after_handling=True))

    post = create_post(alice_api, "Created despite the 504", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert tumblr.route_names() == ["create_post", "list_posts"]
    [made] = tumblr.posts
    delivery = Delivery.objects.get(post_id=post["id"])
    assert delivery.remote_id == made["id_string"]
    assert delivery.attempts.last().outcome == "reconciled"


def test_it_renews_an_expired_token_and_keeps_the_rotated_refresh_token(
    alice_api, tumblr, tokens, account
):
    tumblr.expire(tokens["access_token"])

    post = create_post(alice_api, "After a refresh", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert tumblr.route_names() == ["create_post", "token", "create_post"]
    credentials = Account.objects.get(pk=account["id"]).credentials
    assert credentials["refresh_token"] != tokens["refresh_token"]
    assert credentials["refresh_token"] in tumblr.refresh
    assert tokens["refresh_token"] not in tumblr.refresh


def test_it_sends_each_line_as_its_own_text_block(alice_api, tumblr, account):
    # Two lines of 3,000 characters each fit Tumblr's 4,096 per block, but not as one block.
    text = "a" * 3000 + "\u2028" + "b" * 3000

    post = create_post(alice_api, text, [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    [made] = tumblr.posts
    assert made["body"]["content"] == [
        {"type": "text", "text": "a" * 3000},
        {"type": "text", "text": "b" * 3000},
    ]


def test_it_posts_again_when_the_504_made_nothing(alice_api, tumblr, account):
    tumblr.fail_next("create_post", Reply(504, "Gateway Timeout"))

    post = create_post(alice_api, "Lost on the way", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert tumblr.route_names() == ["create_post", "list_posts", "create_post"]
    delivery = published_delivery(post["id"], tumblr.posts)
    assert [a.outcome for a in delivery.attempts.order_by("number")] == [
        "unconfirmed",
        "published",
    ]


def test_it_renews_a_token_that_expired_before_reconciling(alice_api, tumblr, account):
    tumblr.fail_next("create_post", Reply(504, "Gateway Timeout", after_handling=True))
    tumblr.fail_next("list_posts", unauthorized())

    post = create_post(alice_api, "Found after a refresh", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert tumblr.route_names() == ["create_post", "list_posts", "token", "list_posts"]
    [made] = tumblr.posts
    delivery = Delivery.objects.get(post_id=post["id"])
    assert (delivery.remote_id, delivery.remote_url) == (made["id_string"], made["post_url"])
    assert delivery.attempts.last().outcome == "reconciled"


def test_it_waits_as_long_as_tumblr_asks(alice_api, tumblr, account):
    limited = tumblr_error(429, "Limit Exceeded", 0, "Rate limit exceeded")
    limited.headers["Retry-After"] = "600"
    tumblr.fail_next("create_post", limited)

    post = create_post(alice_api, "Too fast", [account["id"]])

    delivery = delivery_in(post["id"], "retrying")
    assert delivery.error_code == "rate_limited"
    wait = (delivery.next_attempt_at - delivery.attempts.last().finished_at).total_seconds()
    assert 600 <= wait <= 600 * 1.2
    assert tumblr.posts == []


def test_it_waits_for_the_daily_post_limit(alice_api, tumblr, account):
    tumblr.fail_next(
        "create_post", tumblr_error(403, "Forbidden", 8023, "You've hit your daily post limit")
    )

    post = create_post(alice_api, "Post number 251", [account["id"]])

    delivery = delivery_in(post["id"], "retrying")
    assert delivery.error_code == "quota_exhausted"
    assert "daily post limit" in delivery.error_message
    assert tumblr.route_names() == ["create_post"]


def test_it_retries_while_posting_is_switched_off(alice_api, tumblr, account):
    tumblr.fail_next("create_post", tumblr_error(503, "Service Unavailable", 0, "Posting is off"))

    post = create_post(alice_api, "Try again soon", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    # A 503 means nothing was made: no need to look for the post before trying again.
    assert tumblr.route_names() == ["create_post", "create_post"]
    published_delivery(post["id"], tumblr.posts)


def test_it_reconciles_a_bare_503_that_created_the_post(alice_api, tumblr, account):
    # A 503 without Tumblr's error body comes from something in between, after the post may
    # have been made: the blog is checked before anything is sent again.
    tumblr.fail_next(
        "create_post", Reply(503, "<html>Service Unavailable</html>", after_handling=True)
    )

    post = create_post(alice_api, "Made behind a busy proxy", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert tumblr.route_names() == ["create_post", "list_posts"]
    assert len(tumblr.posts) == 1
    assert Delivery.objects.get(post_id=post["id"]).attempts.last().outcome == "reconciled"


def test_it_fails_with_tumblrs_reason_for_a_refused_post(alice_api, tumblr, account):
    tumblr.fail_next("create_post", tumblr_error(400, "Bad Request", 8001, "Invalid NPF block"))

    post = create_post(alice_api, "Not like that", [account["id"]])

    assert settled(post["id"]).status == "FAILED"
    delivery = Delivery.objects.get(post_id=post["id"])
    assert delivery.error_code == "rejected"
    assert "Invalid NPF block" in delivery.error_message
    assert tumblr.route_names() == ["create_post"]


def test_it_asks_to_reconnect_when_tumblr_refuses_the_refresh_token(
    alice_api, tumblr, tokens, account
):
    tumblr.expire(tokens["access_token"])
    tumblr.refresh.pop(tokens["refresh_token"])

    post = create_post(alice_api, "Locked out", [account["id"]])

    assert settled(post["id"]).status == "FAILED"
    assert tumblr.route_names() == ["create_post", "token"]
    assert Delivery.objects.get(post_id=post["id"]).error_code == "reconnect_required"
    assert "refused to renew" in reconnect_reason(alice_api, account["id"])

"""Tumblr through the API, the real worker and the fake api.tumblr.com: NPF multipart posts,
tags, a 504 after creating, and the rotating refresh token."""

import json

import pytest

from platforms.models import Account
from posts.models import Delivery
from tests.fakes.posting import connect, create_post, settled, uploaded_image
from tests.fakes.server import Reply

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


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


def test_it_sends_images_in_the_same_multipart_request(alice_api, tumblr, account):
    images = [uploaded_image(alice_api) for _ in range(2)]

    post = create_post(alice_api, "Two loaves", [account["id"]], images, alt="Bread")

    assert settled(post["id"]).status == "COMPLETED"
    [call] = tumblr.calls
    assert list(call.parts) == ["json", "image0", "image1"]
    assert call.parts["json"]["content_type"] == "application/json"
    body = json.loads(call.parts["json"]["data"])
    image_blocks = [block for block in body["content"] if block["type"] == "image"]
    assert [b["media"][0]["identifier"] for b in image_blocks] == ["image0", "image1"]
    assert all(b["alt_text"] == "Bread" for b in image_blocks)
    assert call.parts["image0"]["data"][:2] == b"\xff\xd8"


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

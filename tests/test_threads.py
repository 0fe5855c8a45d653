"""Threads through the API, the real worker and the fake graph.threads.net."""

import pytest

from posts.models import Delivery
from tests.fakes.posting import connect, create_post, delivery_in, settled, uploaded_image

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


def test_it_publishes_a_text_post(alice_api, threads, account):
    post = create_post(alice_api, "Just words “quoted” 🧵", [account["id"]])

    assert settled(post["id"]).status == "COMPLETED"
    assert threads.route_names() == ["quota", "container", "status", "publish", "permalink"]
    container = threads.calls_named("container")[0].form()
    assert container["media_type"] == ["TEXT"]
    assert container["text"] == ["Just words “quoted” 🧵"]
    [thread] = threads.published_posts()
    assert Delivery.objects.get(post_id=post["id"]).remote_url == thread["permalink"]


def test_it_publishes_one_image(alice_api, threads, account):
    image = uploaded_image(alice_api)

    post = create_post(alice_api, "A picture", [account["id"]], [image], alt="Orange")

    assert settled(post["id"]).status == "COMPLETED"
    assert threads.route_names() == ["quota", "container", "status", "publish", "permalink"]
    container = threads.calls_named("container")[0].form()
    assert container["media_type"] == ["IMAGE"]
    assert container["alt_text"] == ["Orange"]
    assert container["text"] == ["A picture"]


def test_it_publishes_several_images_as_a_carousel(alice_api, threads, account):
    images = [uploaded_image(alice_api) for _ in range(2)]

    post = create_post(alice_api, "Two pictures", [account["id"]], images)

    assert settled(post["id"]).status == "COMPLETED"
    assert threads.route_names() == [
        "quota",
        "container",
        "container",
        "status",
        "status",
        "container",
        "status",
        "publish",
        "permalink",
    ]
    parent = threads.calls_named("container")[-1].form()
    assert parent["media_type"] == ["CAROUSEL"]
    assert parent["text"] == ["Two pictures"]
    assert len(threads.published_posts()) == 1


def test_it_respects_the_250_posts_a_day_quota(alice_api, threads, account):
    threads.quota_usage = 250

    post = create_post(alice_api, "One too many", [account["id"]])

    assert delivery_in(post["id"], "retrying").error_code == "quota_exhausted"
    assert threads.route_names() == ["quota"]

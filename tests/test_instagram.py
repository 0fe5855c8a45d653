"""Instagram through the API, the real worker and the fake graph.instagram.com: containers,
carousels, the publishing quota, and never publishing twice."""

import io
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from PIL import Image

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
def instagram(fakes, worker, platform_env):
    fake = fakes["instagram"]
    fake.reset()
    return fake


@pytest.fixture
def account(alice_api, instagram) -> dict:
    user_id, token = instagram.add_user("alice.makes")
    account = connect(alice_api, "instagram", {"access_token": token, "user_id": user_id})
    instagram.calls.clear()
    return account


def test_it_connects_an_instagram_login_account_from_its_token(alice_api, instagram):
    user_id, token = instagram.add_user("alice.makes")

    account = connect(alice_api, "instagram", {"access_token": token})

    assert account["handle"] == "alice.makes"
    assert account["remote_id"] == user_id
    assert account["token_expires_at"] is not None
    assert "credentials" not in account and token not in str(account)
    stored = Account.objects.get(pk=account["id"])
    assert stored.credentials == {"access_token": token, "login": "instagram"}


def test_it_refuses_a_token_instagram_does_not_accept(alice_api, instagram):
    response = alice_api.post(
        "/api/accounts/instagram/", {"access_token": "not-a-token"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "connect_failed"
    assert not Account.objects.exists()


def test_it_sends_a_png_as_a_jpeg_instagram_accepts(alice_api, instagram, account):
    image = uploaded_image(alice_api, png=True)

    post = create_post(alice_api, "Blue square", [account["id"]], [image])

    assert settled(post["id"]).status == "COMPLETED"
    container = instagram.calls_named("container")[0].form()
    url = container["image_url"][0]
    assert ".instagram.jpg" in url
    fetched = requests.get(url, timeout=10)
    assert fetched.ok
    assert Image.open(io.BytesIO(fetched.content)).format == "JPEG"


def test_it_publishes_one_image_through_a_container(alice, alice_api, instagram, account):
    image = uploaded_image(alice_api)

    post = create_post(alice_api, "Red #square", [account["id"]], [image], alt="A red square")

    assert settled(post["id"]).status == "COMPLETED"
    assert instagram.route_names() == ["quota", "container", "status", "publish", "permalink"]
    container = instagram.calls_named("container")[0].form()
    assert media_key(image) in container["image_url"][0]
    assert container["caption"] == ["Red #square"]
    assert container["alt_text"] == ["A red square"]
    [media] = instagram.published_posts()
    delivery = Delivery.objects.get(post_id=post["id"])
    assert delivery.remote_id == media["id"]
    assert delivery.remote_url == media["permalink"]
    assert delivery.platform_state["creation_id"] == media["container"]


def test_it_publishes_several_images_as_one_carousel(alice, alice_api, instagram, account):
    images = [uploaded_image(alice_api) for _ in range(3)]

    post = create_post(alice_api, "Three squares", [account["id"]], images)

    assert settled(post["id"]).status == "COMPLETED"
    assert instagram.route_names() == [
        "quota",
        *["container"] * 3,
        *["status"] * 3,
        "container",
        "status",
        "publish",
        "permalink",
    ]
    containers = [call.form() for call in instagram.calls_named("container")]
    for image, child in zip(images, containers[:3], strict=True):
        assert media_key(image) in child["image_url"][0]
        assert child["is_carousel_item"] == ["true"]
        assert "caption" not in child
    parent = containers[3]
    assert parent["media_type"] == ["CAROUSEL"]
    assert len(parent["children"][0].split(",")) == 3
    assert parent["caption"] == ["Three squares"]
    assert len(instagram.published_posts()) == 1


def test_it_waits_for_a_container_still_in_progress(alice, alice_api, instagram, account):
    instagram.script_container("IN_PROGRESS", "IN_PROGRESS", "FINISHED")

    post = create_post(alice_api, "Slow one", [account["id"]], [uploaded_image(alice_api)])

    assert settled(post["id"]).status == "COMPLETED"
    assert instagram.route_names().count("status") == 3
    assert Delivery.objects.get(post_id=post["id"]).attempt_count == 1


def test_it_fails_clearly_when_instagram_cannot_process_the_image(
    alice, alice_api, instagram, account
):
    instagram.script_container("ERROR")

    post = create_post(alice_api, "Broken", [account["id"]], [uploaded_image(alice_api)])

    assert settled(post["id"]).status == "FAILED"
    delivery = Delivery.objects.get(post_id=post["id"])
    assert delivery.status == "failed"
    assert "could not process the media" in delivery.error_message
    assert "publish" not in instagram.route_names()


def test_it_makes_a_new_container_when_the_old_one_expired(alice, alice_api, instagram, account):
    instagram.script_container("EXPIRED")

    post = create_post(alice_api, "Second chance", [account["id"]], [uploaded_image(alice_api)])

    assert settled(post["id"]).status == "COMPLETED"
    assert instagram.route_names().count("container") == 2
    assert instagram.route_names().count("publish") == 1
    assert len(instagram.published_posts()) == 1


def test_it_waits_for_the_daily_quota_instead_of_publishing(
    alice, alice_api, instagram, account, settings
):
    instagram.quota_usage = instagram.quota_total

    post = create_post(alice_api, "Too many today", [account["id"]], [uploaded_image(alice_api)])

    delivery = delivery_in(post["id"], "retrying")
    assert delivery.error_code == "quota_exhausted"
    assert delivery.next_attempt_at > timezone.now() + timedelta(minutes=30)
    assert instagram.route_names() == ["quota"]


def test_it_waits_when_the_publish_call_says_the_daily_limit_is_reached(
    alice, alice_api, instagram, account
):
    # The quota endpoint can lag behind: Instagram then refuses media_publish itself with
    # code 9, subcode 2207042 ("the maximum number of posts was reached").
    instagram.fail_next(
        "publish", graph_error(9, "Application request limit reached", subcode=2207042)
    )

    post = create_post(alice_api, "One too many", [account["id"]], [uploaded_image(alice_api)])

    delivery = delivery_in(post["id"], "retrying")
    assert delivery.error_code == "quota_exhausted"
    assert "daily publishing limit" in delivery.error_message
    assert delivery.next_attempt_at > timezone.now() + timedelta(minutes=30)
    assert instagram.published_posts() == []


def test_it_never_publishes_twice_after_an_ambiguous_publish(alice, alice_api, instagram, account):
    # Instagram publishes, then answers 500: the worker must find the post, not post again.
    instagram.fail_next(
        "publish",
        Reply(
            500,
            graph_error(2, "An unexpected error has occurred.", status=500).body,
            after_handling=True,
        ),
    )

    post = create_post(alice_api, "Exactly once", [account["id"]], [uploaded_image(alice_api)])

    assert settled(post["id"]).status == "COMPLETED"
    names = instagram.route_names()
    assert names.count("publish") == 1
    assert names[-2:] == ["status", "listing"]
    [media] = instagram.published_posts()
    delivery = Delivery.objects.get(post_id=post["id"])
    assert (delivery.remote_id, delivery.remote_url) == (media["id"], media["permalink"])
    assert delivery.attempts.last().outcome == "reconciled"


def test_it_renews_a_refused_token_and_publishes(alice, alice_api, instagram, account):
    instagram.fail_next("quota", graph_error(190, "Error validating access token", subcode=463))

    post = create_post(alice_api, "Fresh token", [account["id"]], [uploaded_image(alice_api)])

    assert settled(post["id"]).status == "COMPLETED"
    assert instagram.route_names()[:3] == ["quota", "refresh_token", "quota"]
    assert Account.objects.get(pk=account["id"]).credentials_version == 2


def test_it_marks_the_account_when_instagram_refuses_to_renew(
    alice, alice_api, instagram, account
):
    instagram.fail_next("quota", graph_error(190, "Error validating access token", subcode=460))
    instagram.refusing_renewal = True

    post = create_post(alice_api, "Locked out", [account["id"]], [uploaded_image(alice_api)])

    assert settled(post["id"]).status == "FAILED"
    delivery = Delivery.objects.get(post_id=post["id"])
    assert delivery.error_code in ("reconnect_required", "auth_expired")
    listed = alice_api.get("/api/accounts/").json()
    [shown] = [a for a in listed if a["id"] == account["id"]]
    assert shown["health"] == "needs_reconnect"
    assert "refused to renew" in shown["health_reason"]

"""One post to all six platforms at once, through the API and the real worker: Bluesky on a
real PDS, Mastodon on mastodon-mock, Instagram, Threads, Facebook Pages and Tumblr on their
fakes."""

import pytest
from mastodon import Mastodon

from posts.models import Delivery
from tests.conftest import wait_for
from tests.fakes.meta import graph_error
from tests.fakes.posting import connect, create_post, settled, uploaded_image
from tests.support.bluesky import records_with
from tests.support.mastodon import MastodonMock

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TEXT = "Open today from 8 🥐 #bakery"
META_AND_TUMBLR = ("instagram", "threads", "facebook", "tumblr")


@pytest.fixture(scope="module")
def instance():
    with MastodonMock() as server:
        yield server


@pytest.fixture
def platforms(fakes, worker, platform_env, settings) -> dict:
    settings.HAYON_FETCH_ALLOW_PRIVATE = True  # mastodon-mock listens on loopback
    for name in META_AND_TUMBLR:
        fakes[name].reset()
    return fakes


@pytest.fixture
def bluesky(pds):
    return pds.create_account("alice")


@pytest.fixture
def accounts(alice_api, platforms, pds, bluesky, instance) -> dict[str, dict]:
    """Alice's six accounts, one per platform, connected through the API."""
    connected = {
        "bluesky": connect(
            alice_api,
            "bluesky",
            {"handle": bluesky.handle, "app_password": bluesky.password, "service_url": pds.url},
        )
    }

    connected["mastodon"] = connect(
        alice_api, "mastodon", {"instance_url": instance.url, "access_token": instance.token}
    )
    _, token = platforms["instagram"].add_user("alice.bakes")
    connected["instagram"] = connect(alice_api, "instagram", {"access_token": token})
    _, token = platforms["threads"].add_user("alice.bakes")
    connected["threads"] = connect(alice_api, "threads", {"access_token": token})
    user_id, user_token = platforms["facebook"].add_user("Alice")
    page_id, _ = platforms["facebook"].add_page(user_id, "Alice Bakes")
    connected["facebook"] = connect(
        alice_api, "facebook", {"access_token": user_token, "page_id": page_id}
    )
    _, answer = platforms["tumblr"].add_user("alicebakes")
    connected["tumblr"] = connect(
        alice_api,
        "tumblr",
        {
            "access_token": answer["access_token"],
            "refresh_token": answer["refresh_token"],
            "blog": "alicebakes",
        },
    )

    for name in META_AND_TUMBLR:
        platforms[name].calls.clear()
    return connected


def made_on(platforms, name: str) -> list:
    fake = platforms[name]
    return fake.posts if name == "tumblr" else fake.published_posts()


def test_one_post_reaches_every_platform(alice_api, platforms, accounts, instance, pds, bluesky):
    image = uploaded_image(alice_api)

    post = create_post(alice_api, TEXT, [a["id"] for a in accounts.values()], [image])

    assert settled(post["id"], timeout=60).status == "COMPLETED"
    deliveries = {d.platform: d for d in Delivery.objects.filter(post_id=post["id"])}
    assert sorted(deliveries) == sorted(accounts) and len(deliveries) == 6
    assert all(d.status == "published" and d.remote_url for d in deliveries.values())
    for name in META_AND_TUMBLR:
        assert len(made_on(platforms, name)) == 1, name

    status = Mastodon(access_token=instance.token, api_base_url=instance.url).status(
        deliveries["mastodon"].remote_id
    )
    assert "Open today from 8" in status["content"]
    assert len(status["media_attachments"]) == 1
    assert records_with(pds.url, bluesky, TEXT) == 1


def test_a_retry_after_one_platform_failed_touches_only_that_platform(
    alice_api, platforms, accounts
):
    facebook = platforms["facebook"]
    facebook.fail_next("photos", graph_error(100, "(#100) Invalid parameter"))
    image = uploaded_image(alice_api)

    post = create_post(alice_api, TEXT, [a["id"] for a in accounts.values()], [image])

    assert settled(post["id"], timeout=60).status == "PARTIAL_SUCCESS"
    failed = Delivery.objects.get(post_id=post["id"], platform="facebook")
    assert failed.status == "failed"
    assert "Invalid parameter" in failed.error_message
    others = Delivery.objects.filter(post_id=post["id"]).exclude(pk=failed.pk)
    before = {d.pk: (d.status, d.attempt_count, d.remote_id, d.updated_at) for d in others}
    calls_before = {name: len(platforms[name].calls) for name in META_AND_TUMBLR}

    response = alice_api.post(f"/api/posts/{post['id']}/deliveries/{failed.pk}/retry/")

    assert response.status_code == 200, response.json()

    def retried():
        return Delivery.objects.filter(pk=failed.pk, status="published").exists()

    wait_for(retried, 30)
    assert settled(post["id"]).status == "COMPLETED"
    after = {d.pk: (d.status, d.attempt_count, d.remote_id, d.updated_at) for d in others.all()}
    assert after == before
    for name in ("instagram", "threads", "tumblr"):
        assert len(platforms[name].calls) == calls_before[name], name
        assert len(made_on(platforms, name)) == 1
    assert len(facebook.published_posts()) == 1

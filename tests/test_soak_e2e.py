"""Soak: 300 deliveries over three platforms with failures injected at random.

Bluesky (the real PDS behind the fault proxy), Tumblr and Mastodon (fakes) each answer a
create call with a transient failure 20% of the time, a rate limit 5% and a permanent refusal
2%. Every delivery must end published, failed or parked; every published delivery must have
exactly one post on its platform, and nothing else may be there.
"""

import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from atproto import Client

from posts.models import Delivery
from tests.conftest import wait_for
from tests.fakes.bluesky_proxy import BlueskyProxy
from tests.fakes.mastodon_media import TOKEN, MastodonMediaFake
from tests.fakes.posting import connect as connect_platform
from tests.fakes.server import Call, Reply
from tests.support.bluesky import connect as connect_bluesky

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

POSTS = 100  # each to three accounts: 300 deliveries
TRANSIENT, RATE_LIMITED, PERMANENT = 0.20, 0.05, 0.02
FINAL = {"published", "failed", "parked"}


def chaos(seed: int, transient: Reply, limited, permanent: Reply):
    """Return a route hook that fails calls at the soak's rates, reproducibly per seed."""
    rng = random.Random(seed)

    def answer(call: Call) -> Reply | None:
        roll = rng.random()
        if roll < TRANSIENT:
            return transient
        if roll < TRANSIENT + RATE_LIMITED:
            return limited()
        if roll < TRANSIENT + RATE_LIMITED + PERMANENT:
            return permanent
        return None

    return answer


@pytest.fixture
def platforms(fakes, worker, pds, alice_api, settings):
    settings.HAYON_FETCH_ALLOW_PRIVATE = True
    proxy = BlueskyProxy(pds.url).start()
    mastodon = MastodonMediaFake().start()
    tumblr = fakes["tumblr"]
    tumblr.reset()

    login = pds.create_account("soak")
    bluesky = connect_bluesky(alice_api, pds.url, login, service_url=proxy.url)
    _, tokens = tumblr.add_user("soakblog")
    tumblr_account = connect_platform(
        alice_api,
        "tumblr",
        {
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "expires_in": tokens["expires_in"],
            "blog": "soakblog",
        },
    )
    mastodon_account = connect_platform(
        alice_api, "mastodon", {"instance_url": mastodon.url, "access_token": TOKEN}
    )
    yield {
        "proxy": proxy,
        "tumblr": tumblr,
        "mastodon": mastodon,
        "login": login,
        "accounts": [bluesky["id"], tumblr_account["id"], mastodon_account["id"]],
    }
    proxy.stop()
    mastodon.stop()


def inject_failures(platforms: dict, seed: int) -> None:
    def mastodon_limit() -> Reply:
        reset = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
        return Reply(
            429,
            {"error": "Too many requests"},
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        )

    platforms["proxy"].chaos["createRecord"] = chaos(
        seed,
        Reply(503, {"error": "InternalServerError", "message": "Internal Server Error"}),
        lambda: Reply(429, {"error": "RateLimitExceeded"}, headers={"retry-after": "1"}),
        Reply(400, {"error": "InvalidRequest", "message": "Invalid record"}),
    )
    platforms["tumblr"].chaos["create_post"] = chaos(
        seed + 1,
        Reply(502, "Bad Gateway"),
        lambda: Reply(
            429, {"meta": {"status": 429, "msg": "Limit Exceeded"}}, headers={"Retry-After": "1"}
        ),
        Reply(
            400,
            {
                "meta": {"status": 400, "msg": "Bad Request"},
                "errors": [{"title": "Bad Request", "code": 8001, "detail": "Invalid NPF"}],
            },
        ),
    )
    platforms["mastodon"].chaos["status_post"] = chaos(
        seed + 2,
        Reply(503, {"error": "Service Unavailable"}),
        mastodon_limit,
        Reply(422, {"error": "Validation failed: Text is not allowed"}),
    )


def bluesky_texts(pds_url: str, login) -> list[str]:
    client = Client(base_url=pds_url)
    texts, cursor = [], None
    try:
        client.login(login.handle, login.password, fetch_bsky_profile=False)
        while True:
            page = client.app.bsky.feed.post.list(login.did, limit=100, cursor=cursor)
            texts += [record.text for record in page.records.values()]
            if not page.cursor or not page.records:
                return texts
            cursor = page.cursor
    finally:
        client.request.close()


def test_every_delivery_ends_in_a_final_state_and_none_is_published_twice(
    platforms, pds, alice_api
):
    seed = int(time.time())
    print(f"soak seed {seed}")
    inject_failures(platforms, seed)

    for n in range(POSTS):
        response = alice_api.post(
            "/api/posts/",
            {"text": f"Soak post {n} of {POSTS}", "accounts": platforms["accounts"]},
            format="json",
        )
        assert response.status_code == 201, response.json()

    def settled():
        """every delivery is published, failed or parked"""
        statuses = list(Delivery.objects.values_list("status", flat=True))
        return len(statuses) == 3 * POSTS and set(statuses) <= FINAL

    wait_for(settled, timeout=240, interval=1)

    deliveries = list(Delivery.objects.select_related("post"))
    counts = {status: sum(1 for d in deliveries if d.status == status) for status in FINAL}
    print(f"soak outcome {counts}")
    assert sum(counts.values()) == 3 * POSTS
    assert counts["published"] > 0.8 * 3 * POSTS

    published = {
        p: {d.post.text for d in deliveries if d.platform == p and d.status == "published"}
        for p in ("bluesky", "tumblr", "mastodon")
    }

    on_bluesky = bluesky_texts(pds.url, platforms["login"])
    assert sorted(on_bluesky) == sorted(published["bluesky"])

    tumblr_texts = [p["body"]["content"][0]["text"] for p in platforms["tumblr"].posts]
    assert sorted(tumblr_texts) == sorted(published["tumblr"])

    mastodon_texts = [s["content"] for s in platforms["mastodon"].statuses.values()]
    assert sorted(mastodon_texts) == sorted(published["mastodon"])

"""The rules through the API: validate reports every account's count, create refuses and
creates nothing when one account would refuse the post."""

import pytest

from platforms.models import Account
from posts.models import Delivery, Post

pytestmark = pytest.mark.django_db

LONG_URL = "https://example.com/a/very/long/path/to/an/article?id=12345"


@pytest.fixture
def accounts(alice) -> dict[str, Account]:
    def make(platform: str, handle: str, limits: dict | None = None) -> Account:
        return Account.objects.create(
            owner=alice,
            platform=platform,
            handle=handle,
            remote_id=f"{platform}-{handle}",
            limits=limits or {},
        )

    return {
        "bluesky": make("bluesky", "alice.bsky.social"),
        "mastodon": make("mastodon", "@alice@big.example", {"max_characters": 5000}),
        "threads": make("threads", "alice"),
        "instagram": make("instagram", "alice.pics"),
    }


def body(accounts: dict[str, Account], text: str, *names: str) -> dict:
    return {"text": text, "accounts": [accounts[name].pk for name in names]}


def test_it_reports_each_accounts_count_limit_and_problems(alice_api, accounts):
    text = "a" * 380 + " " + LONG_URL

    response = alice_api.post(
        "/api/posts/validate/",
        body(accounts, text, "bluesky", "mastodon", "threads"),
        format="json",
    )

    assert response.status_code == 200
    reports = {r["platform"]: r for r in response.json()["accounts"]}
    assert reports["bluesky"] == {
        "account": accounts["bluesky"].pk,
        "platform": "bluesky",
        "handle": "alice.bsky.social",
        "measured": 380 + 1 + 27,
        "limit": 300,
        "unit": "graphemes",
        "ok": False,
        "problems": [
            {
                "code": "text_too_long",
                "message": "Bluesky alice.bsky.social allows 300 graphemes; this text has 408",
                "field": "text",
                "limit": 300,
                "measured": 408,
                "severity": "error",
            }
        ],
    }
    assert (reports["mastodon"]["measured"], reports["mastodon"]["limit"]) == (404, 5000)
    assert reports["mastodon"]["ok"] is True
    assert (reports["threads"]["measured"], reports["threads"]["ok"]) == (440, True)
    assert response.json()["ok"] is False


def test_it_counts_the_mastodon_content_warning(alice_api, accounts):
    response = alice_api.post(
        "/api/posts/validate/",
        {**body(accounts, "a" * 4990, "mastodon"), "spoiler_text": "spoilers!!!"},
        format="json",
    )

    (report,) = response.json()["accounts"]
    assert (report["measured"], report["ok"]) == (5001, False)


def test_it_creates_nothing_when_one_account_refuses_the_text(alice_api, accounts):
    response = alice_api.post(
        "/api/posts/",
        body(accounts, "a" * 301, "mastodon", "bluesky"),
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["code"], e["account"]) for e in errors] == [
        ("text_too_long", accounts["bluesky"].pk)
    ]
    assert Post.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_it_refuses_an_instagram_post_without_an_image(alice_api, accounts):
    response = alice_api.post("/api/posts/", body(accounts, "caption", "instagram"), format="json")

    assert response.status_code == 400
    assert [e["code"] for e in response.json()["errors"]] == ["media_required"]
    assert Post.objects.count() == 0


def test_it_creates_the_post_when_every_account_accepts_it(alice_api, accounts):
    text = "\U0001f44d\U0001f3fd " * 150  # 300 graphemes, 1,350 bytes: Bluesky's limit exactly

    response = alice_api.post(
        "/api/posts/",
        {**body(accounts, text, "mastodon", "bluesky"), "draft": True},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert Post.objects.count() == 1


def test_it_warns_that_a_content_warning_only_reaches_the_platforms_that_have_one(
    alice_api, accounts
):
    request = {
        **body(accounts, "Spoilers for the finale", "bluesky", "mastodon"),
        "spoiler_text": "TV finale",
    }

    response = alice_api.post("/api/posts/validate/", request, format="json")

    assert response.status_code == 200
    reports = {r["platform"]: r for r in response.json()["accounts"]}
    [warning] = reports["bluesky"]["problems"]
    assert (warning["code"], warning["field"], warning["severity"]) == (
        "option_not_sent",
        "spoiler_text",
        "warning",
    )
    assert reports["mastodon"]["problems"] == []
    assert response.json()["ok"] is True

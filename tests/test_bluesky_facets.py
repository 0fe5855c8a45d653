"""Bluesky rich text against the real local PDS: what lands in the record is what Bluesky's app
would have made, facets on the right UTF-8 bytes whatever emoji surround the links, mentions
resolved to DIDs, and a card for a post whose only link has no media."""

import pytest
from atproto import Client

from platforms.base import PublishRequest
from platforms.bluesky.tid import new_tid
from platforms.models import Account
from platforms.registry import get_publisher
from tests.fakes.server import FakeServer, Reply
from tests.support.images import small_jpeg

pytestmark = pytest.mark.django_db

FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
SMILE = "\U0001f642"
THUMB = "\U0001f44d\U0001f3fd"
FLAG = "\U0001f1eb\U0001f1f7"


@pytest.fixture
def author(pds):
    return pds.create_account("author")


@pytest.fixture(autouse=True)
def no_cards_from_outside(settings):
    # Cards only from the local page below: nothing here may reach for example.com.
    settings.HAYON_BLUESKY_LINK_CARDS = False


@pytest.fixture
def account(alice, alice_api, pds, author) -> Account:
    response = alice_api.post(
        "/api/accounts/bluesky/",
        {"handle": author.handle, "app_password": author.password, "service_url": pds.url},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return Account.objects.get(pk=response.json()["id"])


def publish(account: Account, text: str):
    request = PublishRequest(
        delivery_id=1, post_id=1, text=text, idempotency_key=new_tid(), attempt=1
    )
    result = get_publisher("bluesky").publish(account, request)

    client = Client(base_url=account.base_url)
    try:
        client.login(account.handle, account.credentials["app_password"], fetch_bsky_profile=False)
        return client.app.bsky.feed.post.get(account.remote_id, result.remote_id).value
    finally:
        client.request.close()


def spans(record) -> list[tuple[str, str]]:
    """Return each facet as (the text its bytes cover, what it points to)."""
    data = record.text.encode("utf-8")
    found = []
    for facet in record.facets or []:
        feature = facet.features[0]
        target = getattr(feature, "uri", None) or getattr(feature, "did", None) or feature.tag
        found.append((data[facet.index.byte_start : facet.index.byte_end].decode(), target))
    return found


@pytest.mark.parametrize(
    ("text", "shown", "expected"),
    [
        (
            f"{SMILE}{SMILE} https://example.com/a {THUMB}",
            f"{SMILE}{SMILE} example.com/a {THUMB}",
            [("example.com/a", "https://example.com/a")],
        ),
        (
            f"{FAMILY} read https://example.com/a/very/long/path/to/an/article?id=12345 {FLAG}",
            f"{FAMILY} read example.com/a/very/long/... {FLAG}",
            [
                (
                    "example.com/a/very/long/...",
                    "https://example.com/a/very/long/path/to/an/article?id=12345",
                )
            ],
        ),
        (
            f"see https://example.com/{SMILE}/x ok #caf\u00e9 {THUMB}",
            f"see example.com/%F0%9F%99%82/x ok #caf\u00e9 {THUMB}",
            [
                ("example.com/%F0%9F%99%82/x", f"https://example.com/{SMILE}/x"),
                ("#caf\u00e9", "caf\u00e9"),
            ],
        ),
        (
            f"{THUMB}example.com/path{FLAG} and https://bsky.app",
            f"{THUMB}example.com/path{FLAG} and bsky.app",
            [("bsky.app", "https://bsky.app")],
        ),
    ],
)
def test_facets_land_on_the_right_bytes_around_emoji(account, text, shown, expected):
    record = publish(account, text)

    assert record.text == shown
    assert spans(record) == expected


def test_it_resolves_mentions_and_leaves_unknown_handles_as_text(account, pds):
    friend = pds.create_account("friend")

    record = publish(account, f"{SMILE} hi @{friend.handle} and @nobody-here.test {THUMB}")

    assert record.text == f"{SMILE} hi @{friend.handle} and @nobody-here.test {THUMB}"
    assert spans(record) == [(f"@{friend.handle}", friend.did)]


def test_validate_warns_about_a_handle_bluesky_does_not_know(account, alice_api, pds):
    friend = pds.create_account("friend")
    body = {"text": f"hi @{friend.handle} and @nobody-here.test", "accounts": [account.pk]}

    response = alice_api.post("/api/posts/validate/", body, format="json")

    [report] = response.json()["accounts"]
    assert report["ok"] is True
    assert [(p["code"], p["severity"]) for p in report["problems"]] == [
        ("mention_unresolved", "warning")
    ]
    assert "@nobody-here.test" in report["problems"][0]["message"]


@pytest.fixture
def article(settings):
    settings.HAYON_FETCH_ALLOW_PRIVATE = True
    settings.HAYON_BLUESKY_LINK_CARDS = True
    image = small_jpeg(600, 315)
    page = FakeServer()
    page.route(
        "GET",
        "/article",
        lambda call, groups: Reply(
            200,
            "<html><head><title>Fallback</title>"
            '<meta property="og:title" content="Tides of the North Sea">'
            '<meta property="og:description" content="Why the water comes and goes.">'
            '<meta property="og:image" content="/cover.jpg"></head><body>...</body></html>',
            {"Content-Type": "text/html; charset=utf-8"},
        ),
        "article",
    )
    page.route(
        "GET",
        "/cover.jpg",
        lambda call, groups: Reply(200, image, {"Content-Type": "image/jpeg"}),
        "cover",
    )
    page.start()
    yield page, image
    page.stop()


def test_a_post_whose_only_link_has_no_media_gets_a_link_card(account, article, pds):
    page, image = article
    url = f"{page.url}/article"

    record = publish(account, f"Worth reading {url}")

    card = record.embed.external
    assert (card.uri, card.title, card.description) == (
        url,
        "Tides of the North Sea",
        "Why the water comes and goes.",
    )
    assert card.thumb.mime_type == "image/jpeg"
    assert card.thumb.size == len(image)


def test_a_post_with_two_links_gets_no_card(account, article):
    page, _ = article

    record = publish(account, f"{page.url}/article and https://example.com/other")

    assert record.embed is None
    assert page.calls == []

"""Tumblr OAuth2 in the browser against the fake authorize screen, with blog selection."""

from urllib.parse import parse_qs, urlsplit

import pytest

from platforms.models import Account
from tests.test_facebook_oauth import consent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def plain_http_oauth(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def tumblr(fakes, platform_env):
    fake = fakes["tumblr"]
    fake.reset()
    return fake


def test_it_asks_for_offline_access(client, alice, tumblr):
    client.force_login(alice)

    start = client.get("/accounts/connect/tumblr/start/")

    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["scope"] == ["basic write offline_access"]
    assert query["response_type"] == ["code"]


def test_it_connects_the_blog_alice_picks(client, alice, tumblr):
    tumblr.add_user("alicebakes", "alicesideblog")
    client.force_login(alice)

    callback = client.get(consent(client, "/accounts/connect/tumblr/start/"))
    listed = client.get(callback["Location"])
    assert b"alicebakes" in listed.content and b"alicesideblog" in listed.content

    done = client.post("/accounts/connect/tumblr/choose/", {"choice": "alicesideblog"})

    assert done.status_code == 200
    account = Account.objects.get(owner=alice, platform="tumblr")
    assert account.handle == "alicesideblog"
    assert account.base_url == "https://alicesideblog.tumblr.com"
    assert account.credentials["refresh_token"] in tumblr.refresh
    assert account.token_expires_at is not None
    assert tumblr.route_names() == ["authorize", "token", "user_info"]

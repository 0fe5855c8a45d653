"""Connecting Mastodon through OAuth: Hayon registers itself once per instance, sends the person
to the instance, and stores the account when the instance sends them back."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from platforms.models import Account, MastodonApp
from tests.support.mastodon import MastodonMock

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def instance():
    with MastodonMock() as server:
        yield server


@pytest.fixture
def browser(alice, settings) -> Client:
    settings.HAYON_FETCH_ALLOW_PRIVATE = True
    client = Client()
    client.force_login(alice)
    return client


def authorize_as(username: str, authorize_url: str) -> str:
    """Pick the account on the instance's authorization page; return where it sends us back."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    answer = requests.post(
        authorize_url.split("?")[0],
        data={
            "username": username,
            "redirect_uri": query["redirect_uri"],
            "state": query["state"],
        },
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


def test_it_connects_an_account_through_the_instances_authorization_page(browser, alice, instance):
    started = browser.get("/accounts/connect/mastodon/start/", {"instance": instance.url})

    assert started.status_code == 302
    authorize = started["Location"]
    assert authorize.startswith(f"{instance.url}/oauth/authorize?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["scope"] == ["write:statuses write:media read:accounts"]

    back = urlsplit(authorize_as("alice", authorize))
    finished = browser.get(back.path, parse_qs(back.query))

    assert finished.status_code == 302
    account = Account.objects.get(owner=alice, platform="mastodon")
    assert account.handle == f"@alice@{instance.url.split('://')[1]}"
    assert account.limits["max_characters"] == 500
    assert account.credentials["access_token"]


def test_it_registers_hayon_once_per_instance(browser, instance):
    browser.get("/accounts/connect/mastodon/start/", {"instance": instance.url})
    browser.get("/accounts/connect/mastodon/start/", {"instance": instance.url + "/"})

    assert MastodonApp.objects.filter(base_url=instance.url).count() == 1


def test_it_refuses_a_callback_whose_state_it_did_not_issue(browser, instance):
    browser.get("/accounts/connect/mastodon/start/", {"instance": instance.url})

    forged = browser.get(
        "/accounts/connect/mastodon/callback/", {"code": "x", "state": "not-the-state"}
    )

    assert forged.status_code == 400
    assert not Account.objects.exists()

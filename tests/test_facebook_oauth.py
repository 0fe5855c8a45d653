"""Facebook Login in the browser against the fake dialog: pick Pages and Instagram accounts."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from platforms.models import Account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def plain_http_oauth(monkeypatch):
    # The fakes answer on http://127.0.0.1; oauthlib refuses plain HTTP unless told.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def facebook(fakes, platform_env):
    fake = fakes["facebook"]
    fake.reset()
    return fake


def consent(client, start_path: str) -> str:
    """Follow start/ to the provider, agree, and return the callback path we are sent to."""
    start = client.get(start_path)
    assert start.status_code == 302
    answer = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    return f"{back.path}?{back.query}"


def test_it_connects_the_pages_and_instagram_account_alice_ticks(client, alice, facebook):
    user_id, user_token = facebook.add_user("Alice")
    bakes, bakes_token = facebook.add_page(
        user_id, "Alice Bakes", instagram=("17841400000000001", "alice.bakes")
    )
    facebook.add_page(user_id, "Old Page")
    facebook.next_login = user_id
    client.force_login(alice)

    callback = client.get(consent(client, "/accounts/connect/facebook/start/"))
    assert callback.status_code == 302
    listed = client.get(callback["Location"])
    assert listed.status_code == 200
    assert b"Alice Bakes" in listed.content and b"@alice.bakes" in listed.content
    assert b"Old Page" in listed.content

    done = client.post(
        "/accounts/connect/facebook/choose/",
        {"choice": [f"facebook:{bakes}", "instagram:17841400000000001"]},
    )

    assert done.status_code == 200
    page = Account.objects.get(owner=alice, platform="facebook")
    assert (page.remote_id, page.credentials) == (bakes, {"access_token": bakes_token})
    instagram = Account.objects.get(owner=alice, platform="instagram")
    assert instagram.handle == "alice.bakes"
    assert instagram.credentials["login"] == "facebook"
    assert instagram.credentials["access_token"] == bakes_token
    assert Account.objects.count() == 2
    assert all(user_token not in str(a.credentials) for a in Account.objects.all())
    assert facebook.route_names() == ["authorize", "code_exchange", "exchange_token", "accounts"]


def test_it_asks_meta_for_the_publishing_scopes(client, alice, facebook):
    client.force_login(alice)

    start = client.get("/accounts/connect/facebook/start/")

    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["client_id"] == [facebook.app_id]
    assert "pages_manage_posts" in query["scope"][0]
    assert "instagram_content_publish" in query["scope"][0]
    assert query["redirect_uri"] == ["http://testserver/accounts/connect/facebook/callback/"]


def test_it_refuses_a_callback_whose_state_it_did_not_send(client, alice, facebook):
    facebook.add_user("Alice")
    client.force_login(alice)
    path = consent(client, "/accounts/connect/facebook/start/")

    forged = client.get(path.replace("state=", "state=forged"))

    assert forged.status_code == 400
    assert b"does not match" in forged.content
    assert "code_exchange" not in facebook.route_names()

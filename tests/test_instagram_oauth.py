"""Instagram Login in the browser against the fake consent screen and token endpoints."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from platforms.models import Account
from platforms.tokens import refresh_due_tokens
from tests.fakes.meta import instagram_error
from tests.test_facebook_oauth import consent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def plain_http_oauth(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def instagram(fakes, platform_env, settings):
    fake = fakes["instagram"]
    fake.reset()
    # The session-wide settings carry the fake's app; say so here, as other tests change them.
    settings.HAYON_INSTAGRAM_APP_ID = fake.app_id
    settings.HAYON_INSTAGRAM_APP_SECRET = fake.app_secret
    return fake


def stored_credentials(account: Account) -> str:
    with connection.cursor() as cursor:
        cursor.execute("select credentials from platforms_account where id = %s", [account.pk])
        return cursor.fetchone()[0]


def test_it_connects_an_instagram_account_with_a_60_day_token(client, alice, instagram):
    user_id, _ = instagram.add_user("alice.studio")
    instagram.next_login = user_id
    client.force_login(alice)

    done = client.get(consent(client, "/accounts/connect/instagram/start/"))

    assert done.status_code == 200
    assert "alice.studio" in done.content.decode()
    account = Account.objects.get(owner=alice, platform="instagram")
    assert (account.remote_id, account.handle) == (user_id, "alice.studio")
    assert account.token_expires_at > timezone.now() + timedelta(days=59)
    assert instagram.route_names() == ["authorize", "code_exchange", "exchange_token", "me"]

    short_lived = instagram.calls_named("exchange_token")[0].query["access_token"][0]
    long_lived = account.credentials["access_token"]
    assert long_lived != short_lived and instagram.tokens[long_lived] == user_id
    assert account.credentials["login"] == "instagram"
    assert long_lived not in stored_credentials(account)


def test_it_sends_the_documented_requests(client, alice, instagram):
    user_id, _ = instagram.add_user("alice.studio")
    instagram.next_login = user_id
    client.force_login(alice)

    client.get(consent(client, "/accounts/connect/instagram/start/"))

    authorize = instagram.calls_named("authorize")[0].query
    assert authorize["client_id"] == [instagram.app_id]
    assert authorize["response_type"] == ["code"]
    assert authorize["scope"] == ["instagram_business_basic,instagram_business_content_publish"]
    assert authorize["redirect_uri"] == ["http://testserver/accounts/connect/instagram/callback/"]
    code = instagram.calls_named("code_exchange")[0].form()
    assert code["grant_type"] == ["authorization_code"]
    assert code["client_secret"] == [instagram.app_secret]
    assert code["redirect_uri"] == authorize["redirect_uri"]
    exchange = instagram.calls_named("exchange_token")[0]
    assert exchange.path == "/access_token"
    assert exchange.query["grant_type"] == ["ig_exchange_token"]
    assert exchange.query["client_secret"] == [instagram.app_secret]


def test_it_refuses_a_callback_whose_state_it_did_not_send(client, alice, instagram):
    instagram.add_user("alice.studio")
    client.force_login(alice)
    path = consent(client, "/accounts/connect/instagram/start/")

    forged = client.get(path.replace("state=", "state=forged"))

    assert forged.status_code == 400
    assert "does not match" in forged.content.decode()
    assert "code_exchange" not in instagram.route_names()
    assert not Account.objects.exists()


def test_it_explains_a_code_instagram_refuses(client, alice, instagram):
    instagram.add_user("alice.studio")
    client.force_login(alice)
    path = consent(client, "/accounts/connect/instagram/start/")
    instagram.fail_next("code_exchange", instagram_error("This authorization code has been used"))

    refused = client.get(path)

    assert refused.status_code == 400
    html = refused.content.decode()
    assert "Could not connect Instagram" in html
    assert "This authorization code has been used" in html
    assert 'href="/accounts/connect/instagram/start/"' in html
    assert "exchange_token" not in instagram.route_names()
    assert not Account.objects.exists()


def test_it_explains_a_consent_the_person_declined(client, alice, instagram):
    client.force_login(alice)
    start = client.get("/accounts/connect/instagram/start/")
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]

    declined = client.get(
        "/accounts/connect/instagram/callback/",
        {"error": "access_denied", "error_description": "Permissions error", "state": state},
    )

    assert declined.status_code == 400
    assert "Permissions error" in declined.content.decode()
    assert instagram.route_names() == []


def test_it_points_to_facebook_login_when_instagram_login_is_not_set_up(
    client, alice, instagram, settings
):
    settings.HAYON_INSTAGRAM_APP_ID = ""
    client.force_login(alice)

    response = client.get("/accounts/connect/instagram/start/")

    assert response.status_code == 400
    assert "Instagram Login is not set up" in response.content.decode()
    assert 'href="/accounts/connect/facebook/start/"' in response.content.decode()


def test_token_upkeep_renews_a_token_from_instagram_login(client, alice, instagram):
    user_id, _ = instagram.add_user("alice.studio")
    instagram.next_login = user_id
    client.force_login(alice)
    client.get(consent(client, "/accounts/connect/instagram/start/"))
    account = Account.objects.get(owner=alice, platform="instagram")
    first = account.credentials["access_token"]
    Account.objects.filter(pk=account.pk).update(
        token_expires_at=timezone.now() + timedelta(days=2)
    )
    instagram.calls.clear()

    report = refresh_due_tokens()

    assert report.refreshed == [account.pk]
    assert instagram.calls_named("refresh_token")[0].query["grant_type"] == ["ig_refresh_token"]
    account.refresh_from_db()
    assert account.credentials["access_token"] != first
    assert account.token_expires_at > timezone.now() + timedelta(days=59)


def test_an_account_reconnected_through_facebook_leaves_token_upkeep(
    client, alice, instagram, fakes
):
    user_id, _ = instagram.add_user("alice.studio")
    instagram.next_login = user_id
    client.force_login(alice)
    client.get(consent(client, "/accounts/connect/instagram/start/"))
    facebook = fakes["facebook"]
    facebook.reset()
    fb_user, _ = facebook.add_user("Alice")
    facebook.add_page(fb_user, "Alice Studio", instagram=(user_id, "alice.studio"))
    facebook.next_login = fb_user

    listed = client.get(consent(client, "/accounts/connect/facebook/start/"))
    client.post(listed["Location"], {"choice": [f"instagram:{user_id}"]})

    account = Account.objects.get(owner=alice, platform="instagram")
    assert account.credentials["login"] == "facebook"
    assert account.token_expires_at is None

"""The periodic token upkeep (platforms.refresh_tokens) against the fake platforms."""

from datetime import timedelta

import pytest
from django.utils import timezone

from platforms.models import Account
from platforms.tasks import refresh_tokens

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def plain_http_oauth(monkeypatch):
    # The fakes answer on http://127.0.0.1; oauthlib refuses plain HTTP unless told.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def instagram(fakes, platform_env):
    fake = fakes["instagram"]
    fake.reset()
    return fake


def instagram_account(owner, fake, *, expires_in: timedelta) -> tuple[Account, str]:
    user_id, token = fake.add_user("alice.makes")
    account = Account.objects.create(
        owner=owner,
        platform="instagram",
        handle="alice.makes",
        remote_id=user_id,
        token_expires_at=timezone.now() + expires_in,
    )
    account.store_credentials({"access_token": token, "login": "instagram"})
    return account, token


def test_it_renews_an_instagram_token_near_expiry(alice, instagram):
    account, old_token = instagram_account(alice, instagram, expires_in=timedelta(days=3))

    report = refresh_tokens()

    assert report["refreshed"] == [account.pk]
    assert instagram.route_names() == ["refresh_token"]
    account.refresh_from_db()
    assert account.credentials["access_token"] != old_token
    assert account.credentials["login"] == "instagram"
    assert account.token_expires_at > timezone.now() + timedelta(days=59)
    assert account.health == "active"


def test_it_leaves_tokens_far_from_expiry_alone(alice, instagram):
    instagram_account(alice, instagram, expires_in=timedelta(days=40))

    assert refresh_tokens()["refreshed"] == []
    assert instagram.calls == []


def test_it_marks_the_account_when_the_renewal_is_refused(alice, alice_api, instagram):
    account, _ = instagram_account(alice, instagram, expires_in=timedelta(days=2))
    instagram.refusing_renewal = True

    report = refresh_tokens()

    assert report["needs_reconnect"] == [account.pk]
    [shown] = alice_api.get("/api/accounts/").json()
    assert shown["health"] == "needs_reconnect"
    assert "Instagram refused to renew the token" in shown["health_reason"]


def test_it_renews_a_threads_token(alice, fakes, platform_env):
    threads = fakes["threads"]
    threads.reset()
    user_id, token = threads.add_user("alice.threads")
    account = Account.objects.create(
        owner=alice,
        platform="threads",
        handle="alice.threads",
        remote_id=user_id,
        token_expires_at=timezone.now() + timedelta(days=1),
    )
    account.store_credentials({"access_token": token})

    assert refresh_tokens()["refreshed"] == [account.pk]
    account.refresh_from_db()
    assert account.credentials["access_token"] != token


def test_it_stores_tumblrs_rotated_refresh_token(alice, fakes, platform_env):
    tumblr = fakes["tumblr"]
    tumblr.reset()
    _, answer = tumblr.add_user("alicebakes")
    account = Account.objects.create(
        owner=alice,
        platform="tumblr",
        handle="alicebakes",
        remote_id="alicebakes",
        token_expires_at=timezone.now() + timedelta(minutes=2),
    )
    account.store_credentials(
        {"access_token": answer["access_token"], "refresh_token": answer["refresh_token"]}
    )

    assert refresh_tokens()["refreshed"] == [account.pk]
    account.refresh_from_db()
    new = account.credentials
    assert new["refresh_token"] in tumblr.refresh
    assert answer["refresh_token"] not in tumblr.refresh
    assert new["access_token"] in tumblr.access
    assert account.token_expires_at > timezone.now() + timedelta(minutes=30)

    # The old refresh token is spent: a second renewal with it would be refused, and the
    # account would need reconnecting. The stored one still works.
    account.token_expires_at = timezone.now()
    account.save(update_fields=["token_expires_at"])
    assert refresh_tokens()["refreshed"] == [account.pk]


def test_it_never_touches_page_tokens_which_do_not_expire(alice, fakes, platform_env):
    facebook = fakes["facebook"]
    facebook.reset()
    Account.objects.create(owner=alice, platform="facebook", handle="Page", remote_id="1")

    assert refresh_tokens() == {"refreshed": [], "needs_reconnect": [], "failed": []}
    assert facebook.calls == []

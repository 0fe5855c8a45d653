"""Threads login in the browser against the fake consent screen."""

from datetime import timedelta

import pytest
from django.utils import timezone

from platforms.models import Account
from tests.test_facebook_oauth import consent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def plain_http_oauth(monkeypatch):
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def test_it_connects_a_threads_profile_with_a_60_day_token(client, alice, fakes, platform_env):
    threads = fakes["threads"]
    threads.reset()
    user_id, _ = threads.add_user("alice.threads")
    threads.next_login = user_id
    client.force_login(alice)

    done = client.get(consent(client, "/accounts/connect/threads/start/"))

    assert done.status_code == 200
    account = Account.objects.get(owner=alice, platform="threads")
    assert (account.remote_id, account.handle) == (user_id, "alice.threads")
    assert account.token_expires_at > timezone.now() + timedelta(days=59)
    assert threads.route_names() == ["authorize", "code_exchange", "exchange_token", "me"]

"""`manage.py rotate_credentials_key`: every account ends up readable with the new key alone."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import CommandError, call_command
from django.db import connection

from platforms import crypto
from platforms.models import Account

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
UNRELATED_KEY = Fernet.generate_key().decode()


@pytest.fixture
def keys(settings):
    """Set HAYON_CREDENTIALS_KEYS as a deployment would (processes read keys once)."""

    def use(*keys: str) -> None:
        settings.HAYON_CREDENTIALS_KEYS = list(keys)
        crypto._fernet.cache_clear()

    yield use
    crypto._fernet.cache_clear()


def stored_token(account: Account) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM platforms_account WHERE id = %s", [account.pk])
        return cursor.fetchone()[0]


def connect(owner, handle: str, credentials: dict) -> Account:
    return Account.objects.create(
        owner=owner, platform="mastodon", handle=handle, remote_id=handle, credentials=credentials
    )


def rotate(*args: str) -> str:
    out = StringIO()
    call_command("rotate_credentials_key", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_it_re_encrypts_every_account_so_the_old_key_can_be_dropped(keys, alice, bob):
    keys(OLD_KEY)
    first = connect(alice, "alice@example.social", {"access_token": "alice-token"})
    second = connect(bob, "bob@example.social", {"access_token": "bob-token"})

    keys(NEW_KEY, OLD_KEY)
    output = rotate()

    assert "re-encrypted 2 accounts" in output
    for account in (first, second):
        Fernet(NEW_KEY).decrypt(stored_token(account).encode())
    keys(NEW_KEY)
    assert Account.objects.get(pk=first.pk).credentials == {"access_token": "alice-token"}
    assert Account.objects.get(pk=second.pk).credentials == {"access_token": "bob-token"}


@pytest.mark.django_db
def test_it_leaves_accounts_already_on_the_new_key_alone(keys, alice):
    keys(OLD_KEY)
    connect(alice, "alice@example.social", {"access_token": "alice-token"})
    keys(NEW_KEY, OLD_KEY)
    rotate()

    again = rotate()

    assert "re-encrypted 0 accounts" in again
    assert "1 already used it" in again


@pytest.mark.django_db
def test_a_dry_run_counts_without_writing(keys, alice):
    keys(OLD_KEY)
    account = connect(alice, "alice@example.social", {"access_token": "alice-token"})
    before = stored_token(account)
    keys(NEW_KEY, OLD_KEY)

    output = rotate("--dry-run")

    assert "would re-encrypt 1 accounts" in output
    assert stored_token(account) == before
    with pytest.raises(InvalidToken):
        Fernet(NEW_KEY).decrypt(before.encode())


@pytest.mark.django_db
def test_it_names_accounts_no_key_can_read_and_still_rotates_the_others(keys, alice, bob):
    keys(UNRELATED_KEY)
    lost = connect(alice, "alice@example.social", {"access_token": "alice-token"})
    keys(OLD_KEY)
    kept = connect(bob, "bob@example.social", {"access_token": "bob-token"})

    keys(NEW_KEY, OLD_KEY)
    with pytest.raises(CommandError, match=rf"ids \[{lost.pk}\]"):
        rotate()

    Fernet(NEW_KEY).decrypt(stored_token(kept).encode())


@pytest.mark.django_db
def test_it_refuses_to_run_without_configured_keys(keys):
    keys()

    with pytest.raises(CommandError, match="HAYON_CREDENTIALS_KEYS is empty"):
        rotate()

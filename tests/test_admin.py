"""Django admin: accounts without their credentials, posts with deliveries and attempts, and
the parked and unconfirmed deliveries an administrator replays or resolves by hand."""

import logging

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from hayon.errors import Conflict
from platforms.models import Account, AccountHealth
from platforms.services import connect_account
from posts import resolution
from posts.models import Attempt, Delivery, DeliveryStatus, Post, PostStatus
from posts.status import refresh_post_status

pytestmark = pytest.mark.django_db

SECRET = "app-password-that-must-never-show"


@pytest.fixture
def account(alice) -> Account:
    return Account.objects.create(
        owner=alice,
        platform="bluesky",
        handle="alice.test",
        remote_id="did:plc:alice",
        credentials={"app_password": SECRET, "session": "session-" + SECRET},
        last_error="The server answered 502 on the last check.",
    )


def delivery_in(account, status: str, text: str = "Hello from the admin tests") -> Delivery:
    post = Post.objects.create(owner=account.owner, text=text)
    delivery = Delivery.objects.create(
        post=post,
        account=account,
        platform=account.platform,
        status=status,
        attempt_count=3,
        idempotency_key="3kabcdefghijk",
        error_code="transient",
        error_message="The platform answered 502.",
    )
    Attempt.objects.create(
        delivery=delivery,
        number=3,
        outcome="transient",
        http_status=502,
        error_message="Bad gateway from the PDS",
    )
    refresh_post_status(post.pk)
    return delivery


def run_action(admin_client, model: str, action: str, ids: list[int], **extra):
    url = reverse(f"admin:posts_{model}_changelist")
    return admin_client.post(
        url, {"action": action, "_selected_action": ids, **extra}, follow=True
    )


def test_it_never_shows_account_credentials_in_lists_forms_or_history(admin_client, account):
    pages = [
        reverse("admin:platforms_account_changelist"),
        reverse("admin:platforms_account_change", args=[account.pk]),
        reverse("admin:platforms_account_history", args=[account.pk]),
        reverse("admin:platforms_account_delete", args=[account.pk]),
    ]
    raw = Account.objects.filter(pk=account.pk).values_list("credentials", flat=True)

    for url in pages:
        html = admin_client.get(url).content.decode()
        assert "alice.test" in html, url
        assert SECRET not in html, url
        assert "credentials" not in html.replace("credentials_version", ""), url
        assert str(raw[0])[:20] not in html, url


def test_it_keeps_the_credentials_when_an_admin_saves_the_account(admin_client, account):
    url = reverse("admin:platforms_account_change", args=[account.pk])

    admin_client.post(
        url,
        {
            "handle": "alice.test",
            "display_name": "Alice",
            "base_url": "",
            "health": "active",
            "health_reason": "",
            "last_error": "",
            "token_expires_at_0": "",
            "token_expires_at_1": "",
        },
    )

    account.refresh_from_db()
    assert account.display_name == "Alice"
    assert account.credentials["app_password"] == SECRET


def test_it_marks_accounts_for_reconnection(admin_client, account, caplog):
    caplog.set_level(logging.INFO, logger="platforms.admin")

    response = admin_client.post(
        reverse("admin:platforms_account_changelist"),
        {"action": "mark_for_reconnection", "_selected_action": [account.pk]},
        follow=True,
    )

    account.refresh_from_db()
    assert account.health == AccountHealth.NEEDS_RECONNECT
    assert "1 account(s) marked for reconnection" in response.content.decode()
    assert f"account={account.pk}" in caplog.text


def test_it_shows_a_post_with_its_deliveries_and_attempts(admin_client, account):
    delivery = delivery_in(account, DeliveryStatus.PARKED)

    html = admin_client.get(
        reverse("admin:posts_post_change", args=[delivery.post_id])
    ).content.decode()

    assert "Hello from the admin tests" in html
    assert "Parked" in html
    assert "Bad gateway from the PDS" in html
    assert SECRET not in html


def test_it_finds_posts_by_text_and_by_handle_and_filters_by_platform(admin_client, account):
    delivery_in(account, DeliveryStatus.PUBLISHED, text="Spring launch notes")
    url = reverse("admin:posts_post_changelist")

    by_text = admin_client.get(url, {"q": "spring launch"}).content.decode()
    by_handle = admin_client.get(url, {"q": "alice.test"}).content.decode()
    on_mastodon = admin_client.get(url, {"platform": "mastodon"}).content.decode()

    assert "Spring launch notes" in by_text
    assert "Spring launch notes" in by_handle
    assert "Spring launch notes" not in on_mastodon


def test_it_lists_only_parked_and_unconfirmed_deliveries_in_the_parking_lot(admin_client, account):
    delivery_in(account, DeliveryStatus.PARKED, text="Parked one")
    delivery_in(account, DeliveryStatus.UNCONFIRMED, text="Unconfirmed one")
    delivery_in(account, DeliveryStatus.PUBLISHED, text="Published one")

    response = admin_client.get(reverse("admin:posts_delivery_parking_lot"), follow=True)
    html = response.content.decode()

    assert "Parked one" in html
    assert "Unconfirmed one" in html
    assert "Published one" not in html


def test_it_replays_a_parked_delivery_whose_message_is_not_in_the_parking_lot(
    admin_client, account, caplog
):
    caplog.set_level(logging.INFO, logger="posts.admin")
    delivery = delivery_in(account, DeliveryStatus.PARKED)

    response = run_action(admin_client, "delivery", "replay", [delivery.pk])

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.version == 2
    assert delivery.retry_base == 3
    assert f"Delivery {delivery.pk} sent again" in response.content.decode()
    assert f"delivery={delivery.pk}" in caplog.text


def test_it_tells_the_admin_when_a_delivery_cannot_be_replayed(admin_client, account):
    delivery = delivery_in(account, DeliveryStatus.PUBLISHED)

    response = run_action(admin_client, "delivery", "replay", [delivery.pk])

    assert "only failed, parked or unconfirmed" in response.content.decode()
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PUBLISHED


def test_it_asks_for_the_url_before_marking_a_delivery_published(admin_client, account):
    delivery = delivery_in(account, DeliveryStatus.UNCONFIRMED)
    url = "https://bsky.app/profile/did:plc:alice/post/3kabcdefghijk"

    form = run_action(admin_client, "delivery", "mark_published", [delivery.pk])
    assert "Live URL of delivery" in form.content.decode()
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.UNCONFIRMED

    invalid = run_action(
        admin_client,
        "delivery",
        "mark_published",
        [delivery.pk],
        apply="1",
        **{f"url_{delivery.pk}": "not a url at all"},
    )
    assert "Enter a valid URL." in invalid.content.decode()

    done = run_action(
        admin_client,
        "delivery",
        "mark_published",
        [delivery.pk],
        apply="1",
        **{f"url_{delivery.pk}": url, f"remote_id_{delivery.pk}": "at://did:plc:alice/x/3k"},
    )

    delivery.refresh_from_db()
    assert f"Delivery {delivery.pk} marked published." in done.content.decode()
    assert delivery.status == DeliveryStatus.PUBLISHED
    assert delivery.remote_url == url
    assert delivery.remote_id == "at://did:plc:alice/x/3k"
    assert delivery.post.status == PostStatus.COMPLETED


def test_it_marks_a_parked_delivery_failed_with_the_reason_given(admin_client, account):
    delivery = delivery_in(account, DeliveryStatus.PARKED)

    run_action(admin_client, "delivery", "mark_failed", [delivery.pk])
    run_action(
        admin_client,
        "delivery",
        "mark_failed",
        [delivery.pk],
        apply="1",
        reason="Not on Bluesky; the owner will post it again.",
    )

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.error_message == "Not on Bluesky; the owner will post it again."
    assert delivery.post.status == PostStatus.FAILED


def test_it_resolves_by_hand_only_from_states_that_wait_for_a_person(account):
    publishing = delivery_in(account, DeliveryStatus.PUBLISHING)
    failed = delivery_in(account, DeliveryStatus.FAILED)

    with pytest.raises(Conflict):
        resolution.mark_published(publishing, "https://example.com/p/1")
    with pytest.raises(Conflict):
        resolution.mark_failed(failed)

    assert Delivery.objects.get(pk=publishing.pk).status == DeliveryStatus.PUBLISHING
    version = failed.version
    found = resolution.mark_published(failed, "https://example.com/p/2", by="root")
    assert found.status == DeliveryStatus.PUBLISHED
    assert found.version == version + 1


def test_it_hides_add_buttons_for_records_that_only_flows_create(admin_client):
    for model in ("platforms_account", "posts_post", "posts_delivery", "media_media"):
        assert admin_client.get(reverse(f"admin:{model}_add")).status_code == 403, model


@pytest.fixture
def on_pds(alice, pds) -> Account:
    """Alice's Bluesky account, connected for real on the local PDS."""
    login = pds.create_account("alice")
    account, _ = connect_account(
        alice,
        "bluesky",
        {"handle": login.handle, "app_password": login.password, "service_url": pds.url},
    )
    return account


def recheck(admin_client, account: Account):
    return admin_client.post(
        reverse("admin:platforms_account_changelist"),
        {"action": "recheck", "_selected_action": [account.pk]},
        follow=True,
    )


def test_it_rechecks_an_account_with_its_platform(admin_client, on_pds):
    account = on_pds
    account.mark_needs_reconnect("Marked by hand to see the check clear it.")

    response = recheck(admin_client, account)

    account.refresh_from_db()
    assert account.health == AccountHealth.ACTIVE
    assert f"{account}: working." in response.content.decode()


def test_a_check_notices_an_app_password_that_no_longer_works(admin_client, on_pds):
    account = on_pds
    # The session stays valid; only the password is refused, as after a revocation.
    account.store_credentials({**account.credentials, "app_password": "revoked-password"})

    recheck(admin_client, account)

    account.refresh_from_db()
    assert account.health == AccountHealth.NEEDS_RECONNECT
    assert "revoked-password" not in account.health_reason


def test_it_never_lists_the_legacy_api_keys_of_users(admin_client, alice):
    key = Token.objects.create(user=alice).key

    index = admin_client.get(reverse("admin:index"))
    listing = admin_client.get("/admin/authtoken/tokenproxy/")

    assert index.status_code == 200
    assert key not in index.content.decode()
    assert listing.status_code == 404

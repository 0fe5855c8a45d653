"""The server-rendered pages: who sees what, filters, the calendar's days and the accounts page.

Browser behaviour (counters, uploads, live status) is in tests/e2e/.
"""

import logging
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from platforms.models import Account, AccountHealth
from posts.models import Delivery, DeliveryStatus, Post, PostStatus
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


def signed_in(user, zone: str = "UTC") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["hayon_tz"] = zone
    return client


def make_account(owner, handle: str, **fields) -> Account:
    return Account.objects.create(
        owner=owner,
        platform="bluesky",
        handle=handle,
        remote_id=f"did:plc:{handle.split('.')[0]}",
        credentials={"session": f"secret-session-of-{handle}"},
        **fields,
    )


def make_post(owner, account, text: str, status="pending", **fields) -> Post:
    post = Post.objects.create(owner=owner, text=text, **fields)
    Delivery.objects.create(
        post=post,
        account=account,
        platform=account.platform,
        status=status,
        idempotency_key=f"key-{post.pk}",
        next_attempt_at=post.scheduled_at,
    )
    return post


def calendar_cell(html: str, day: str) -> str:
    """Return the HTML of the calendar cell for an ISO day."""
    match = re.search(rf'<time datetime="{day}">.*?</td>', html, re.S)
    assert match, f"no cell for {day}"
    return match.group(0)


def test_it_sends_a_visitor_who_is_not_signed_in_to_sign_in(client):
    response = client.get("/posts/")

    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=/posts/"


def test_it_signs_in_with_a_password_and_out_again(client, alice):
    response = client.post("/signin/", {"username": "alice", "password": "alice-password-1"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "Dashboard" in client.get("/").content.decode()

    response = client.post("/signout/")
    assert response["Location"] == "/signin/"
    assert client.get("/").status_code == 302


def test_it_says_why_a_sign_in_failed(client, alice):
    response = client.post("/signin/", {"username": "alice", "password": "wrong"})

    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_it_shows_the_dashboard_sections_with_the_users_own_posts(alice, bob):
    mine = make_account(alice, "alice.test")
    theirs = make_account(bob, "bob.test")
    soon = timezone.now() + timedelta(days=1)
    make_post(alice, mine, "Alice plans ahead", scheduled_at=soon, status=PostStatus.SCHEDULED)
    make_post(alice, mine, "Alice broke something", status=DeliveryStatus.PARKED)
    make_post(bob, theirs, "Bob's secret plans", scheduled_at=soon)

    html = signed_in(alice).get("/").content.decode()

    assert "Alice plans ahead" in html
    assert "Alice broke something" in html
    assert "Bob&#x27;s secret plans" not in html and "Bob's secret plans" not in html


def test_it_prompts_to_reconnect_an_account_that_needs_it(alice):
    make_account(
        alice,
        "alice.test",
        health=AccountHealth.NEEDS_RECONNECT,
        health_reason="The app password was revoked.",
    )

    dashboard = signed_in(alice).get("/").content.decode()
    accounts = signed_in(alice).get("/accounts/").content.decode()

    assert "needs reconnecting" in dashboard
    assert "The app password was revoked." in accounts
    assert 'href="/accounts/bluesky/?handle=alice.test"' in accounts


def test_it_answers_404_for_another_users_post(alice, bob):
    post = make_post(bob, make_account(bob, "bob.test"), "Bob only")

    assert signed_in(alice).get(f"/posts/{post.pk}/").status_code == 404
    assert signed_in(bob).get(f"/posts/{post.pk}/").status_code == 200


def test_it_filters_posts_by_status_account_and_days_in_the_users_zone(alice):
    first = make_account(alice, "first.test")
    second = make_account(alice, "second.test")
    # 03:00 UTC on the 20th is still the 19th in New York.
    at = datetime(2031, 5, 20, 3, 0, tzinfo=UTC)
    make_post(alice, first, "Late evening in New York", scheduled_at=at)
    make_post(alice, second, "On the other account", scheduled_at=at)
    make_post(alice, first, "A week later", scheduled_at=at + timedelta(days=7))
    Post.objects.filter(text="A week later").update(status=PostStatus.CANCELLED)
    client = signed_in(alice, "America/New_York")

    on_19th = client.get("/posts/", {"start": "2031-05-19", "end": "2031-05-19"})
    on_20th = client.get("/posts/", {"start": "2031-05-20", "end": "2031-05-20"})
    by_account = client.get("/posts/", {"account": second.pk})
    cancelled = client.get("/posts/", {"status": "CANCELLED"})

    assert "Late evening in New York" in on_19th.content.decode()
    assert "Late evening in New York" not in on_20th.content.decode()
    assert "On the other account" in by_account.content.decode()
    assert "Late evening in New York" not in by_account.content.decode()
    assert "A week later" in cancelled.content.decode()
    assert "On the other account" not in cancelled.content.decode()


def test_it_refuses_a_date_range_that_ends_before_it_starts(alice):
    response = signed_in(alice).get("/posts/", {"start": "2031-05-20", "end": "2031-05-01"})

    assert "The end date is before the start date." in response.content.decode()


def test_it_puts_posts_on_the_calendar_day_of_the_users_zone(alice):
    account = make_account(alice, "alice.test")
    at = datetime(2031, 5, 20, 3, 0, tzinfo=UTC)
    make_post(alice, account, "Night owl post", scheduled_at=at)

    new_york = signed_in(alice, "America/New_York").get("/posts/calendar/?date=2031-05-01")
    tokyo = signed_in(alice, "Asia/Tokyo").get("/posts/calendar/?date=2031-05-01")

    assert "23:00" in calendar_cell(new_york.content.decode(), "2031-05-19")
    assert "Night owl post" in calendar_cell(new_york.content.decode(), "2031-05-19")
    assert "Night owl post" not in calendar_cell(new_york.content.decode(), "2031-05-20")
    assert "12:00" in calendar_cell(tokyo.content.decode(), "2031-05-20")


def test_it_shows_a_week_from_monday_to_sunday(alice):
    account = make_account(alice, "alice.test")
    make_post(
        alice, account, "Sunday brunch", scheduled_at=datetime(2031, 5, 25, 10, 0, tzinfo=UTC)
    )

    html = signed_in(alice).get("/posts/calendar/?view=week&date=2031-05-21").content.decode()

    days = re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">', html)
    assert days == [f"2031-05-{day}" for day in range(19, 26)]
    assert "Sunday brunch" in calendar_cell(html, "2031-05-25")


def test_it_renders_times_in_utc_until_the_browser_reports_its_zone(alice):
    account = make_account(alice, "alice.test")
    post = make_post(
        alice, account, "Zone check", scheduled_at=datetime(2031, 1, 1, 12, 0, tzinfo=UTC)
    )
    client = Client()
    client.force_login(alice)

    html = client.get(f"/posts/{post.pk}/").content.decode()
    client.cookies["hayon_tz"] = "Not/AZone"
    fallback = client.get(f"/posts/{post.pk}/").content.decode()

    assert 'data-zone="UTC"' in html and "12:00" in html
    assert 'data-zone="UTC"' in fallback


def test_it_offers_a_draft_for_resuming_with_its_accounts_and_time(alice):
    account = make_account(alice, "alice.test")
    at = timezone.now().astimezone(NEW_YORK).replace(microsecond=0) + timedelta(days=3)
    draft = make_post(alice, account, "Half written", scheduled_at=at, timezone="America/New_York")
    Post.objects.filter(pk=draft.pk).update(is_draft=True, status=PostStatus.DRAFT)

    response = signed_in(alice).get(f"/posts/new/?draft={draft.pk}")
    initial = response.context["initial"]

    assert initial["draft_id"] == draft.pk
    assert initial["text"] == "Half written"
    assert initial["accounts"] == [account.pk]
    assert initial["date"] == at.date().isoformat()
    assert initial["time"] == at.strftime("%H:%M")


def test_it_does_not_resume_a_post_that_is_not_a_draft(alice):
    post = make_post(alice, make_account(alice, "alice.test"), "Already sent")

    assert signed_in(alice).get(f"/posts/new/?draft={post.pk}").status_code == 404


def test_it_refuses_to_disconnect_an_account_with_posts_still_waiting(alice):
    account = make_account(alice, "alice.test")
    make_post(alice, account, "Waiting", scheduled_at=timezone.now() + timedelta(days=1))
    client = signed_in(alice)

    response = client.post(f"/accounts/{account.pk}/disconnect/", follow=True)

    assert "deliveries still waiting" in response.content.decode()
    assert Account.objects.get(pk=account.pk).health == AccountHealth.ACTIVE


def test_it_disconnects_an_account_and_hides_it(alice):
    account = make_account(alice, "alice.test")
    client = signed_in(alice)

    assert (
        "Disconnect Bluesky alice.test?"
        in client.get(f"/accounts/{account.pk}/disconnect/").content.decode()
    )
    response = client.post(f"/accounts/{account.pk}/disconnect/", follow=True)

    assert "Bluesky alice.test is disconnected." in response.content.decode()
    assert not Account.objects.filter(pk=account.pk).exists()


def test_it_never_puts_credentials_on_the_accounts_page(alice):
    make_account(alice, "alice.test")

    html = signed_in(alice).get("/accounts/").content.decode()

    assert "alice.test" in html
    assert "secret-session-of-alice.test" not in html
    assert "gAAAAA" not in html  # no Fernet token either


def test_it_shows_the_platforms_refusal_next_to_the_bluesky_form(alice, pds):
    login = pds.create_account("alice")

    response = signed_in(alice).post(
        "/accounts/bluesky/",
        {"handle": login.handle, "app_password": "not-the-password", "service_url": pds.url},
    )

    assert response.status_code == 200
    assert 'class="error-summary"' in response.content.decode()
    assert not Account.objects.filter(owner=alice).exists()


def make_instagram_account(
    owner, handle: str, login: str, *, remote_id: str = "", token: str = "", **fields
) -> Account:
    account = Account.objects.create(
        owner=owner,
        platform="instagram",
        handle=handle,
        remote_id=remote_id or f"ig-{handle}",
        **fields,
    )
    account.store_credentials({"access_token": token or f"token-of-{handle}", "login": login})
    return account


def test_it_connects_instagram_with_instagram_login_when_its_app_is_set_up(alice, settings):
    settings.HAYON_INSTAGRAM_APP_ID = "instagram-app"
    settings.HAYON_INSTAGRAM_APP_SECRET = "instagram-secret"

    html = signed_in(alice).get("/accounts/").content.decode()

    assert 'href="/accounts/connect/instagram/start/">Connect Instagram</a>' in html


def test_it_connects_instagram_through_facebook_without_an_instagram_app(alice, settings):
    settings.HAYON_INSTAGRAM_APP_ID = ""

    html = signed_in(alice).get("/accounts/").content.decode()

    assert (
        'href="/accounts/connect/facebook/start/">Connect Instagram through Facebook</a>' in html
    )
    assert 'href="/accounts/connect/facebook/start/">Connect Facebook Page</a>' in html


def test_it_reconnects_an_instagram_account_with_the_login_it_came_through(alice, settings):
    settings.HAYON_INSTAGRAM_APP_ID = "instagram-app"
    settings.HAYON_INSTAGRAM_APP_SECRET = "instagram-secret"
    broken = {"health": AccountHealth.NEEDS_RECONNECT, "health_reason": "Token refused."}
    make_instagram_account(alice, "alice.bakes", "facebook", **broken)
    make_instagram_account(alice, "alice.studio", "instagram", **broken)

    html = signed_in(alice).get("/accounts/").content.decode()

    assert (
        'href="/accounts/connect/facebook/start/">Reconnect alice.bakes through Facebook</a>'
        in html
    )
    assert 'href="/accounts/connect/instagram/start/">Reconnect alice.studio</a>' in html
    assert "over the API" not in html


def test_it_reconnects_an_instagram_login_account_through_facebook_without_the_app(
    alice, settings
):
    settings.HAYON_INSTAGRAM_APP_ID = ""
    make_instagram_account(
        alice, "alice.studio", "instagram", health=AccountHealth.NEEDS_RECONNECT
    )

    html = signed_in(alice).get("/accounts/").content.decode()

    assert (
        'href="/accounts/connect/facebook/start/">Reconnect alice.studio through Facebook</a>'
        in html
    )


@pytest.fixture
def instagram(fakes, platform_env):
    fake = fakes["instagram"]
    fake.reset()
    return fake


def checked(alice, account: Account, way: str) -> Account:
    if way == "page":
        signed_in(alice).post(f"/accounts/{account.pk}/check/")
    else:
        client_for(alice).post(f"/api/accounts/{account.pk}/check/")
    account.refresh_from_db()
    return account


@pytest.mark.parametrize("way", ["page", "api"])
def test_a_check_that_passes_clears_an_older_error(alice, instagram, way):
    user_id, token = instagram.add_user("alice.studio")
    account = make_instagram_account(
        alice, "alice.studio", "instagram", remote_id=user_id, token=token, last_error="Timeout."
    )

    account = checked(alice, account, way)

    assert (account.health, account.last_error) == (AccountHealth.ACTIVE, "")
    assert instagram.route_names() == ["profile", "quota"]


def test_a_check_logs_the_health_change_without_the_token(alice, instagram, caplog):
    user_id, token = instagram.add_user("alice.studio")
    account = make_instagram_account(
        alice, "alice.studio", "instagram", remote_id=user_id, token=token
    )
    instagram.revoke(token)

    with caplog.at_level(logging.INFO, logger="platforms.services"):
        account = checked(alice, account, "page")

    assert account.health == AccountHealth.NEEDS_RECONNECT
    assert (
        f"account health changed account={account.pk} platform=instagram "
        "from=active to=needs_reconnect"
    ) in caplog.text
    assert token not in caplog.text


def test_it_logs_the_id_of_an_account_it_deleted(alice, caplog):
    account = make_account(alice, "alice.test")

    with caplog.at_level(logging.INFO, logger="platforms.services"):
        signed_in(alice).post(f"/accounts/{account.pk}/disconnect/")

    assert f"account disconnected account={account.pk} platform=bluesky" in caplog.text

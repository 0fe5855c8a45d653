"""Drafts, and the post page's buttons: reschedule, retry one account, duplicate."""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from posts.models import Delivery, DeliveryStatus, Post
from posts.services import PostInput, create_post
from posts.status import refresh_post_status
from tests.e2e.conftest import PASSWORD, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
]

BERLIN = ZoneInfo("Europe/Berlin")


def scheduled_post(owner, account, text: str, days: int = 2) -> Post:
    later = (timezone.now() + timedelta(days=days)).isoformat()
    post, _ = create_post(owner, PostInput(text=text, accounts=[account.pk], scheduled_at=later))
    return post


def test_a_draft_is_saved_resumed_and_published_with_its_own_text_per_account(
    page, alice, bluesky_account, worker
):
    sign_in(page, "alice", PASSWORD)
    page.goto("/posts/new/")
    page.get_by_label("Text", exact=True).fill("Notes for everyone")
    page.get_by_label(f"Bluesky {bluesky_account.handle}").check()
    page.get_by_text(f"Different text for {bluesky_account.handle}").click()
    page.get_by_label(f"Text for {bluesky_account.handle} only").fill("Notes for Bluesky only")
    expect(page.locator(".preview-text")).to_have_text("Notes for Bluesky only")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#compose-status")).to_contain_text("Draft saved")

    draft = Post.objects.get(owner=alice)
    assert draft.is_draft
    assert draft.deliveries.get().text == "Notes for Bluesky only"
    expect(page).to_have_url(re.compile(rf"\?draft={draft.pk}$"))

    page.goto("/")
    page.get_by_role("link", name="Notes for everyone").click()
    expect(page.get_by_label("Text", exact=True)).to_have_value("Notes for everyone")
    expect(page.get_by_label(f"Text for {bluesky_account.handle} only")).to_have_value(
        "Notes for Bluesky only"
    )
    page.get_by_label("Text", exact=True).fill("Notes for everyone, revised")
    page.get_by_role("button", name="Post now").click()
    page.wait_for_url(f"**/posts/{draft.pk}/")

    row = page.locator(".delivery", has_text=bluesky_account.handle)
    expect(row.locator("[data-field=status]")).to_have_text("Published", timeout=60_000)
    post = Post.objects.get(pk=draft.pk)
    assert not post.is_draft
    assert post.text == "Notes for everyone, revised"
    assert Post.objects.filter(owner=alice).count() == 1


@pytest.mark.parametrize("browser_zone", ["Europe/Berlin"])
def test_the_post_page_reschedules_in_the_chosen_zone_and_duplicates(page, alice, bluesky_account):
    post = scheduled_post(alice, bluesky_account, "Moving this one")
    day = datetime.now(BERLIN).date() + timedelta(days=5)

    sign_in(page, "alice", PASSWORD)
    page.goto(f"/posts/{post.pk}/")
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label("Time", exact=True).fill("18:45")
    page.get_by_label("Timezone").select_option("Asia/Tokyo")
    page.get_by_role("button", name="Reschedule").click()
    expect(page.locator("#post-when")).to_contain_text(
        datetime.combine(day, time(18, 45), ZoneInfo("Asia/Tokyo"))
        .astimezone(BERLIN)
        .strftime("%H:%M")
    )

    post.refresh_from_db()
    expected = datetime.combine(day, time(18, 45), ZoneInfo("Asia/Tokyo")).astimezone(UTC)
    assert post.scheduled_at == expected
    assert post.timezone == "Asia/Tokyo"
    assert post.deliveries.get().next_attempt_at == expected

    page.get_by_label("Time", exact=True).fill("")
    page.get_by_role("button", name="Reschedule").click()
    expect(page.locator('[data-error-for="scheduled_at"]')).to_have_text(
        "Choose a date and a time."
    )

    page.get_by_role("button", name="Duplicate as a new draft").click()
    page.wait_for_url(re.compile(r"/posts/new/\?draft=\d+$"))
    expect(page.get_by_label("Text", exact=True)).to_have_value("Moving this one")
    expect(page.get_by_label(f"Bluesky {bluesky_account.handle}")).to_be_checked()
    assert Post.objects.filter(owner=alice, is_draft=True).count() == 1


def test_a_failed_delivery_is_retried_from_the_post_page_and_published(
    page, alice, bluesky_account, worker
):
    post = scheduled_post(alice, bluesky_account, "Second time lucky")
    Delivery.objects.filter(post=post).update(
        status=DeliveryStatus.FAILED,
        attempt_count=1,
        error_code="rejected",
        error_message="Bluesky refused the post: the server was being upgraded.",
    )
    refresh_post_status(post.pk)

    sign_in(page, "alice", PASSWORD)
    page.goto(f"/posts/{post.pk}/")
    row = page.locator(".delivery", has_text=bluesky_account.handle)
    expect(row.locator("[data-field=error]")).to_have_text(
        "Bluesky refused the post: the server was being upgraded."
    )
    expect(row.locator("[data-field=hint]")).to_contain_text("Fix the cause below, then retry")

    row.get_by_role("button", name=f"Retry {bluesky_account.handle}").click()
    expect(row.locator("[data-field=status]")).to_have_text("Published", timeout=60_000)
    expect(row.get_by_role("link", name="View the post on Bluesky")).to_be_visible()
    expect(row.locator("[data-field=error]")).to_be_hidden()
    expect(row.get_by_role("button", name=f"Retry {bluesky_account.handle}")).to_be_hidden()

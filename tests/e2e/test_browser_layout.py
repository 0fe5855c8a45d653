"""Every page fits a phone's width, and every form control has a label."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from posts.services import PostInput, create_post
from tests.e2e.conftest import PASSWORD, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = ["/", "/posts/", "/posts/calendar/", "/posts/calendar/?view=week", "/accounts/"]

UNLABELLED = """() => Array.from(document.querySelectorAll("input, select, textarea"))
  .filter((el) => el.type !== "hidden" && !el.closest("template"))
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label"))
  .map((el) => el.outerHTML)"""


@pytest.fixture
def busy_alice(alice, bluesky_account):
    """Alice with a scheduled post, so lists and the calendar have something to show."""
    later = (timezone.now() + timedelta(days=1)).isoformat()
    post, _ = create_post(
        alice,
        PostInput(
            text="A long line of text that has to wrap on a narrow screen " * 3,
            accounts=[bluesky_account.pk],
            scheduled_at=later,
        ),
    )
    return post


def test_pages_fit_a_phone_and_label_every_control(page, busy_alice, bluesky_account):
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, "alice", PASSWORD)

    for path in [*PAGES, f"/posts/{busy_alice.pk}/", "/posts/new/", "/accounts/bluesky/"]:
        page.goto(path)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow}px wider than a phone"
        assert page.evaluate(UNLABELLED) == [], path

    page.goto("/posts/new/")
    screenshot(page, "compose-phone")


def test_compose_works_from_the_keyboard_alone(page, busy_alice, bluesky_account):
    sign_in(page, "alice", PASSWORD)
    page.goto("/posts/new/")

    expect(page.get_by_label("Text", exact=True)).to_be_focused()
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Tab")
    expect(page.get_by_label(f"Bluesky {bluesky_account.handle}")).to_be_focused()
    page.keyboard.press("Space")
    counter = page.locator(f'[data-counter-for="{bluesky_account.pk}"]')
    expect(counter.locator(".count")).to_have_text("21")

    page.get_by_role("button", name="Save draft").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#compose-status")).to_contain_text("Draft saved")

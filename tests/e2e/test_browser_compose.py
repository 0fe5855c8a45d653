"""The compose page's counter and preview for an account whose limits are its own: a Mastodon
instance that allows 5,000 characters, counting each link as 23 whatever its length."""

import re

import pytest
from playwright.sync_api import expect

from platforms.mastodon.rules import DEFAULT_LIMITS
from posts.models import Post
from tests.e2e.conftest import PASSWORD, screenshot, sign_in
from tests.support.api import account_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = "https://example.com/notes/" + "spring-" * 12
# Mastodon counts a link as characters_reserved_per_url (23), so this text counts
# 4,000 + " #hayon " (8) + 23 = 4,031 on that instance, though it is 4,000 + 8 + 110 long.
TEXT = "x" * 4000 + " #hayon " + LINK


@pytest.fixture
def big_instance_account(alice):
    """Alice's account on an instance configured for 5,000 characters per post."""
    return account_for(
        alice,
        "alice@big.example",
        platform="mastodon",
        limits={**DEFAULT_LIMITS, "max_characters": 5000},
    )


def test_the_counter_uses_the_instances_own_limit_and_the_preview_marks_links_and_tags(
    page, alice, big_instance_account
):
    sign_in(page, "alice", PASSWORD)
    page.get_by_role("link", name="New post").click()
    page.get_by_label(f"Mastodon {big_instance_account.handle}").check()

    page.get_by_label("Text", exact=True).fill(TEXT)
    counter = page.locator(f'[data-counter-for="{big_instance_account.pk}"]')
    expect(counter.locator(".count")).to_have_text("4031")
    expect(counter.locator(".limit")).to_have_text("5000")
    expect(counter).not_to_have_class(re.compile(r"\bover\b"))

    preview = page.get_by_label(f"Preview on Mastodon for {big_instance_account.handle}")
    expect(preview.locator(".pv-link")).to_have_text(LINK)
    expect(preview.locator(".pv-tag")).to_have_text("#hayon")
    screenshot(page, "compose-mastodon")

    page.get_by_label("Text", exact=True).fill("y" * 4978 + " #hayon " + LINK)
    expect(counter.locator(".count")).to_have_text("5009")
    expect(counter).to_have_class(re.compile(r"\bover\b"))


def test_a_lost_answer_then_an_edit_never_makes_a_silent_duplicate(page, alice, bluesky_account):
    lost = []

    def lose_the_first_answer(route):
        # The server makes the post; the browser never hears back, as on a dropped connection.
        if not lost:
            lost.append(route.fetch().status)
            route.abort()
        else:
            route.continue_()

    page.route("**/api/posts/", lose_the_first_answer)
    sign_in(page, "alice", PASSWORD)
    page.get_by_role("link", name="New post").click()
    page.get_by_label(f"Bluesky {bluesky_account.handle}").check()
    page.get_by_label("Text", exact=True).fill("First version")
    page.get_by_role("button", name="Post now").click()
    expect(page.locator("#compose-errors")).to_contain_text("could not be reached")

    page.get_by_label("Text", exact=True).fill("Second version")
    page.get_by_role("button", name="Post now").click()
    expect(page.locator("#compose-errors")).to_contain_text("already in your posts")
    assert list(Post.objects.values_list("text", flat=True)) == ["First version"]

    page.get_by_role("button", name="Post now").click()
    page.wait_for_url(re.compile(r"/posts/\d+/$"))
    assert lost == [201]
    assert sorted(Post.objects.values_list("text", flat=True)) == [
        "First version",
        "Second version",
    ]

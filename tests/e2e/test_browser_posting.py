"""A person at the keyboard: sign in, connect Bluesky, compose, post, schedule, cancel.

Everything runs for real: Chromium, the live Django server, the Celery worker over RabbitMQ
and the reference Bluesky PDS. Screenshots land in artifacts/screenshots/.
"""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from atproto import Client
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from media.models import Media
from posts.models import Delivery, Post
from tests.conftest import wait_for
from tests.e2e.conftest import PASSWORD, screenshot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
]

ALT = "A blue square with a white stripe, our test card"
# 300 graphemes: Bluesky's limit exactly. The emoji is one grapheme made of five code points,
# so a counter that counted code points or bytes would already be over.
AT_LIMIT = "Launch day 👩🏽‍💻 " + "x" * 287


def make_image(folder) -> str:
    path = folder / "card.png"
    image = Image.new("RGB", (640, 480), (40, 90, 200))
    ImageDraw.Draw(image).rectangle((0, 200, 640, 260), fill=(255, 255, 255))
    image.save(path)
    return str(path)


def read_post(pds, login, rkey: str):
    client = Client(base_url=pds.url)
    try:
        client.login(login.handle, login.password, fetch_bsky_profile=False)
        return client.app.bsky.feed.post.get(login.did, rkey).value
    finally:
        client.request.close()


def test_a_new_user_connects_bluesky_and_publishes_a_post_with_an_image(
    page, alice, pds, pds_login, worker, tmp_path
):
    sign_in(page, "alice", PASSWORD)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("link", name="Accounts", exact=True).click()
    page.get_by_role("link", name="Connect Bluesky").click()
    page.get_by_label("Handle").fill(pds_login.handle)
    page.get_by_label("App password").fill(pds_login.password)
    page.get_by_label("Server (PDS) address").fill(pds.url)
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.get_by_text(f"Bluesky {pds_login.handle} is connected.")).to_be_visible()
    row = page.locator(".account-row", has_text=pds_login.handle)
    expect(row.locator(".badge")).to_have_text("Active")
    screenshot(page, "accounts")

    page.get_by_role("link", name="New post").click()
    account = alice.accounts.get()
    page.get_by_label(f"Bluesky {pds_login.handle}").check()
    page.set_input_files("#image-input", make_image(tmp_path))
    item = page.locator(".image-item")
    expect(item.locator(".upload-state")).to_have_text("Uploaded")
    page.get_by_label("Alt text for image 1").fill(ALT)

    counter = page.locator(f'[data-counter-for="{account.pk}"]')
    page.get_by_label("Text", exact=True).fill(AT_LIMIT)
    expect(counter.locator(".count")).to_have_text("300")
    expect(counter).to_have_class(re.compile(r"\bnear\b"))
    page.get_by_label("Text", exact=True).press("End")
    page.keyboard.type("!")
    expect(counter.locator(".count")).to_have_text("301")
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    expect(page.locator(f'[data-problems-for="{account.pk}"]')).to_contain_text("300")
    page.keyboard.press("Backspace")
    expect(counter.locator(".count")).to_have_text("300")
    expect(counter).not_to_have_class(re.compile(r"\bover\b"))
    expect(page.locator(".preview img")).to_have_attribute("alt", ALT)
    screenshot(page, "compose")

    page.get_by_role("button", name="Post now").click()
    page.wait_for_url(re.compile(r"/posts/\d+/$"))
    delivery_row = page.locator(".delivery", has_text=pds_login.handle)
    expect(delivery_row.locator("[data-field=status]")).to_have_text("Published", timeout=60_000)
    link = delivery_row.get_by_role("link", name="View the post on Bluesky")
    expect(link).to_be_visible()
    expect(page.locator("#post-status")).to_have_text("Completed")
    screenshot(page, "post")

    href = link.get_attribute("href")
    match = re.fullmatch(rf"https://bsky\.app/profile/{re.escape(pds_login.did)}/post/(\w+)", href)
    assert match, href
    record = read_post(pds, pds_login, match.group(1))
    assert record.text == AT_LIMIT
    assert [image.alt for image in record.embed.images] == [ALT]
    delivery = Delivery.objects.get(account=account)
    assert delivery.remote_url == href


@pytest.mark.parametrize("browser_zone", ["America/New_York"])
def test_a_post_scheduled_in_new_york_time_is_stored_at_the_right_instant_and_cancelled(
    page, alice, bluesky_account
):
    local_day = datetime.now(ZoneInfo("America/New_York")).date() + timedelta(days=10)
    expected = datetime.combine(local_day, time(9, 30), ZoneInfo("America/New_York"))

    sign_in(page, "alice", PASSWORD)
    page.goto("/posts/new/")
    page.get_by_label(f"Bluesky {bluesky_account.handle}").check()
    page.get_by_label("Text", exact=True).fill("Coffee meetup on Thursday #hayon")
    page.get_by_label("Schedule").check()
    expect(page.get_by_label("Timezone")).to_have_value("America/New_York")
    page.get_by_label("Date", exact=True).fill(local_day.isoformat())
    page.get_by_label("Time", exact=True).fill("09:30")
    expect(page.locator("#schedule-note")).to_contain_text(
        expected.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_url(re.compile(r"/posts/\d+/$"))

    post = Post.objects.get(owner=alice)
    assert post.scheduled_at == expected.astimezone(UTC)
    assert post.timezone == "America/New_York"
    expect(page.locator("#post-when")).to_contain_text("09:30")
    expect(page.locator("#post-status")).to_have_text("Scheduled")

    page.goto(f"/posts/calendar/?date={local_day.isoformat()}")
    day = page.locator("td", has=page.locator(f'time[datetime="{local_day.isoformat()}"]'))
    expect(day.get_by_role("link")).to_contain_text("09:30 Coffee meetup")
    screenshot(page, "calendar")

    page.goto(f"/posts/{post.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel post").click()
    expect(page.locator("#post-status")).to_have_text("Cancelled")
    row = page.locator(".delivery", has_text=bluesky_account.handle)
    expect(row.locator("[data-field=status]")).to_have_text("Cancelled")

    wait_for(lambda: Post.objects.get(pk=post.pk).status == "CANCELLED")
    assert Delivery.objects.get(post=post).status == "cancelled"


def test_errors_appear_next_to_what_caused_them(page, alice, bluesky_account, tmp_path):
    sign_in(page, "alice", PASSWORD)
    page.goto("/posts/new/")
    page.get_by_label("Text", exact=True).fill("Nothing chosen yet")
    page.get_by_role("button", name="Post now").click()
    expect(page.locator("#compose-errors")).to_contain_text("choose at least one account")
    expect(page.locator('[data-error-for="accounts"]')).to_have_text("choose at least one account")

    page.get_by_label(f"Bluesky {bluesky_account.handle}").check()
    page.set_input_files("#image-input", make_image(tmp_path))
    expect(page.locator(".image-item .upload-state")).to_have_text("Uploaded")
    page.get_by_label("Alt text for image 1").fill("a" * 2001)
    expect(page.locator(".image-item .alt-error")).to_contain_text(
        "allows 2000 graphemes of alt text"
    )

    page.get_by_label("Alt text for image 1").fill("A short description")
    page.get_by_label("Schedule").check()
    yesterday = datetime.now(ZoneInfo("Europe/Berlin")).date() - timedelta(days=1)
    page.get_by_label("Date", exact=True).fill(yesterday.isoformat())
    page.get_by_label("Time", exact=True).fill("08:00")
    expect(page.locator('[data-error-for="scheduled_at"]')).to_contain_text("in the past")
    expect(page.locator(".image-item .alt-error")).to_be_hidden()

    page.get_by_role("button", name="Schedule").click()
    expect(page.locator("#compose-errors")).to_contain_text("in the past")
    assert not Post.objects.filter(owner=alice).exists()

    page.get_by_role("button", name="Remove image 1").click()
    expect(page.locator(".image-item")).to_have_count(0)
    expect(page.locator(".preview img")).to_have_count(0)
    wait_for(lambda: not Media.objects.filter(owner=alice).exists())

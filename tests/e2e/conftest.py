"""Real Chromium (Debian's, through Playwright) against pytest-django's live server.

The page's API calls go to the same live server, which shares the test database with the
Celery worker process, so what the browser starts is published by the real worker.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from platforms.services import connect_account
from tests.conftest import ARTIFACTS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ARTIFACTS / "screenshots"
PASSWORD = "alice-password-1"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")

    # Playwright's sync API keeps an event loop running in this thread, and Django refuses
    # ORM calls while one runs. The test's own ORM calls are plain synchronous code, so the
    # check is lifted for as long as the browser lives, and put back afterwards.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_zone() -> str:
    """The timezone the browser runs in; a test overrides this fixture to change it."""
    return "Europe/Berlin"


@pytest.fixture
def page(browser, live_server, settings, browser_zone) -> Iterator[Page]:
    # Signed upload URLs are absolute: make them point at the live server.
    settings.HAYON_PUBLIC_URL = live_server.url
    context = browser.new_context(
        base_url=live_server.url,
        timezone_id=browser_zone,
        locale="en-GB",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot for people to look at (artifacts/, not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/signin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


@pytest.fixture
def pds_login(pds):
    """A fresh account on the local PDS: (handle, password, did)."""
    return pds.create_account("alice")


@pytest.fixture
def bluesky_account(alice, pds, pds_login):
    """Alice's Bluesky account, connected through the same service as the accounts page."""
    account, _ = connect_account(
        alice,
        "bluesky",
        {"handle": pds_login.handle, "app_password": pds_login.password, "service_url": pds.url},
    )
    return account

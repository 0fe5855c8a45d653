"""Fetching user-supplied URLs reaches public addresses only, and never reads without bound."""

import pytest

from hayon.safe_http import FetchError, FetchRefused, fetch
from tests.fakes.server import FakeServer, Reply


@pytest.fixture
def page():
    server = FakeServer()
    server.route("GET", "/page", lambda call, groups: Reply(200, "<html>hello</html>"), "page")
    server.route("GET", "/big", lambda call, groups: Reply(200, "x" * 50_000), "big")
    server.route(
        "GET",
        "/to-metadata",
        lambda call, groups: Reply(302, "", {"Location": "http://169.254.169.254/latest/"}),
        "redirect",
    )
    server.route("GET", "/slow", lambda call, groups: Reply(200, "late", delay=2), "slow")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def allow_private(settings):
    settings.HAYON_FETCH_ALLOW_PRIVATE = True


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0x7f000001/",
        "http://[::ffff:127.0.0.1]/",
        "file:///etc/passwd",
        "ftp://example.com/file",
        "https://example.com:8443/",
    ],
)
def test_it_refuses_urls_that_are_not_public_web_addresses(url):
    with pytest.raises(FetchRefused):
        fetch(url)


def test_it_refuses_a_local_page_unless_private_fetching_is_allowed(page, settings):
    with pytest.raises(FetchRefused):
        fetch(page.url + "/page")

    settings.HAYON_FETCH_ALLOW_PRIVATE = True
    fetched = fetch(page.url + "/page")

    assert (fetched.status, fetched.content_type, fetched.body) == (
        200,
        "text/plain",
        b"<html>hello</html>",
    )


def test_it_checks_the_target_of_a_redirect_again(page, allow_private):
    with pytest.raises(FetchRefused):
        fetch(page.url + "/to-metadata")


def test_it_stops_reading_past_the_size_cap(page, allow_private):
    assert len(fetch(page.url + "/big", max_bytes=50_000).body) == 50_000

    with pytest.raises(FetchError, match="larger than 10000 bytes"):
        fetch(page.url + "/big", max_bytes=10_000)


def test_it_gives_up_on_a_page_slower_than_the_timeout(page, allow_private):
    with pytest.raises(FetchError, match=r"did not answer within 0\.5 s"):
        fetch(page.url + "/slow", timeout=0.5)

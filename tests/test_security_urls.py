"""A URL a person gives when connecting an account (a Bluesky PDS, a Mastodon instance) is
only called when it is a public http(s) address: never loopback, private or link-local, never
another scheme. A loopback stand-in shows that a refused URL is never called at all."""

import pytest

from platforms.models import Account
from tests.fakes.server import FakeServer, Reply

pytestmark = pytest.mark.django_db


class Listener(FakeServer):
    """Answers anything with 401, and records that it was asked."""

    def __init__(self) -> None:
        super().__init__()
        refused = Reply(401, {"error": "AuthenticationRequired", "message": "no"})
        self.route("GET", r"/.*", lambda call, groups: refused, "get")
        self.route("POST", r"/.*", lambda call, groups: refused, "post")


@pytest.fixture
def listener():
    server = Listener().start()
    yield server
    server.stop()


def connect_bluesky(api, service_url: str):
    body = {"handle": "alice.test", "app_password": "app-pass", "service_url": service_url}
    return api.post("/api/accounts/bluesky/", body, format="json")


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "[::1]", "10.1.2.3", "192.168.0.10", "169.254.169.254"],
)
def test_it_refuses_a_pds_on_a_private_address(alice_api, host):
    response = connect_bluesky(alice_api, f"http://{host}/")

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("url_not_public", "service_url")
    assert not Account.objects.exists()


def test_a_refused_url_is_never_called(alice_api, listener):
    response = connect_bluesky(alice_api, listener.url)

    assert response.json()["code"] == "url_not_public"
    assert listener.calls == []


def test_it_refuses_a_mastodon_instance_on_loopback_before_calling_it(alice_api, listener):
    response = alice_api.post(
        "/api/accounts/mastodon/",
        {"instance_url": listener.url, "access_token": "token"},
        format="json",
    )

    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == (
        "url_not_public",
        "instance_url",
    )
    assert listener.calls == []


def test_it_refuses_a_scheme_other_than_http(alice_api):
    response = connect_bluesky(alice_api, "ftp://bsky.example/")

    assert response.status_code == 400
    assert response.json()["field"] == "service_url"


def test_the_setting_for_local_servers_lets_loopback_through(alice_api, listener, settings):
    settings.HAYON_FETCH_ALLOW_PRIVATE = True

    response = connect_bluesky(alice_api, listener.url)

    assert response.status_code == 400
    assert response.json()["code"] == "connect_failed"
    assert [call.path for call in listener.calls] == ["/xrpc/com.atproto.server.createSession"]


def test_the_accounts_page_refuses_a_pds_on_a_private_address(client, alice, listener):
    client.force_login(alice)
    form = {"handle": "alice.test", "app_password": "app-pass"}

    for service_url in ("http://169.254.169.254/", listener.url):
        response = client.post("/accounts/bluesky/", {**form, "service_url": service_url})

        assert response.status_code == 200
        assert "is not public" in response.content.decode()
    assert listener.calls == []
    assert not Account.objects.exists()

"""A credential planted in an account must never come back out: not in any API response, not
on any admin page, not in any log line of the web process or the worker.

The account points at a loopback Bluesky stand-in that refuses every token, so the secret
goes through every path that handles credentials: connecting, checking, publishing,
refreshing and logging in again. The stand-in records what it received, which proves the
secret really travelled those paths before the test looks for it in the output.
"""

from pathlib import Path

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.urls import reverse

from platforms.models import Account
from posts.models import FINISHED, Delivery
from tests.conftest import wait_for
from tests.fakes.server import FakeServer, Reply
from tests.support.api import PLANTED_SECRET, account_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class RefusingPDS(FakeServer):
    """Answers like a PDS that has expired every session and knows no password."""

    def __init__(self) -> None:
        super().__init__()
        refused_login = Reply(
            401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
        )
        expired = Reply(400, {"error": "ExpiredToken", "message": "Token has expired"})
        self.route(
            "POST",
            r"/xrpc/com\.atproto\.server\.createSession",
            lambda c, g: refused_login,
            "login",
        )
        self.route("GET", r"/xrpc/.*", lambda c, g: expired, "read")
        self.route("POST", r"/xrpc/.*", lambda c, g: expired, "write")


@pytest.fixture
def pds_stand_in():
    server = RefusingPDS().start()
    yield server
    server.stop()


@pytest.fixture
def planted(alice, pds_stand_in) -> Account:
    return account_for(alice, "alice.test", base_url=pds_stand_in.url)


def log_from(path: Path, offset: int) -> str:
    with path.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def stored_ciphertext(account: Account) -> str:
    with connection.cursor() as cursor:
        cursor.execute("select credentials from platforms_account where id = %s", [account.pk])
        return cursor.fetchone()[0]


def admin_pages(superuser_client: Client) -> list:
    """Every admin list and every object's change page."""
    pages = []
    for model in admin.site._registry:
        opts = model._meta
        pages.append(
            superuser_client.get(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), follow=True
            )
        )
        for pk in model._default_manager.values_list("pk", flat=True)[:5]:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
            pages.append(superuser_client.get(url, follow=True))
    return pages


def test_a_planted_credential_never_leaves_the_database(
    worker, alice, alice_api, planted, pds_stand_in, caplog, settings, django_user_model
):
    settings.HAYON_FETCH_ALLOW_PRIVATE = True  # the stand-in listens on loopback
    caplog.set_level("DEBUG")
    offset = worker.log_path.stat().st_size
    responses = []

    def api(method: str, path: str, body=None):
        response = getattr(alice_api, method)(path, body, format="json")
        responses.append(response)
        return response

    connect = api(
        "post",
        "/api/accounts/bluesky/",
        {"handle": "alice.test", "app_password": PLANTED_SECRET, "service_url": pds_stand_in.url},
    )
    post = api("post", "/api/posts/", {"text": "Guarded", "accounts": [planted.pk]}).json()
    delivery = Delivery.objects.get(post_id=post["id"])
    wait_for(lambda: Delivery.objects.get(pk=delivery.pk).status in FINISHED, timeout=90)
    checked = api("post", f"/api/accounts/{planted.pk}/check/")
    for path in (
        "/api/accounts/",
        f"/api/accounts/{planted.pk}/",
        "/api/posts/",
        f"/api/posts/{post['id']}/",
        f"/api/posts/{post['id']}/status/",
        f"/api/posts/{post['id']}/deliveries/{delivery.pk}/",
        "/api/schema/",
    ):
        api("get", path)

    admin_user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-1")
    browser = Client()
    browser.force_login(admin_user)
    pages = admin_pages(browser)

    # The secret really went through login, check and publish: the stand-in saw it.
    seen = " ".join(
        str(call.headers) + call.body.decode(errors="replace") for call in pds_stand_in.calls
    )
    assert PLANTED_SECRET in seen
    assert connect.status_code == 400 and checked.status_code == 200
    assert [p.status_code for p in pages if p.status_code != 200] == []
    ciphertext = stored_ciphertext(planted)
    assert PLANTED_SECRET not in ciphertext
    outputs = {
        "api": "\n".join(r.content.decode() for r in responses),
        "admin": "\n".join(p.content.decode() for p in pages),
        "web log": caplog.text,
        "worker log": log_from(worker.log_path, offset),
    }
    assert outputs["worker log"], "the worker wrote nothing: was the delivery processed?"
    for where, text in outputs.items():
        assert PLANTED_SECRET not in text, f"the planted credential appears in the {where}"
        assert ciphertext[:40] not in text, f"the encrypted credential appears in the {where}"

"""Safe to put on the internet: security headers, CSRF for the pages' session writes, and a
production mode that refuses to start with development values."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from hayon.checks import check_sqlite_version

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.django_db


def test_every_answer_carries_the_security_headers(alice_api):
    for response in (alice_api.get("/api/posts/"), Client().get("/api/posts/")):
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_an_anonymous_request_gets_401_in_the_error_shape():
    response = Client().get("/api/posts/")

    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "field": None,
        "errors": [
            {
                "code": "not_authenticated",
                "message": "Authentication credentials were not provided.",
            }
        ],
    }


@pytest.fixture
def alice_browser(alice) -> Client:
    """Alice signed in to the pages: a session cookie, and CSRF checked as in a browser."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    return browser


def test_a_session_write_without_the_csrf_token_is_refused(alice_browser):
    response = alice_browser.post(
        "/api/tokens/", {"name": "from a forged form"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "CSRF" in response.json()["message"]
    assert alice_browser.get("/api/tokens/").json() == []


def test_a_session_write_with_the_csrf_token_goes_through(alice_browser):
    alice_browser.get("/api/tokens/")
    token = "a" * 32
    alice_browser.cookies["csrftoken"] = token

    response = alice_browser.post(
        "/api/tokens/",
        {"name": "from the page"},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 201, response.content


def test_a_token_client_needs_no_csrf_token(alice_api):
    alice_api.handler.enforce_csrf_checks = True

    response = alice_api.post("/api/tokens/", {"name": "script"}, format="json")

    assert response.status_code == 201


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import the settings in a fresh process with this environment, as a server start does."""
    environment = {
        "PATH": os.environ["PATH"],
        "HAYON_ENV_FILE": "/nonexistent",
        "DJANGO_SETTINGS_MODULE": "hayon.settings",
        **env,
    }
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k) for k in ('DEBUG', 'SESSION_COOKIE_SECURE', "
        "'CSRF_COOKIE_SECURE', 'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER')}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


PRODUCTION = {
    "HAYON_ENV": "production",
    "SECRET_KEY": "k" * 50,
    "HAYON_CREDENTIALS_KEYS": Fernet.generate_key().decode(),
    "CELERY_BROKER_URL": "amqp://guest:guest@127.0.0.1:5672//",
    "ALLOWED_HOSTS": "hayon.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/hayon",
}


def test_production_starts_with_safe_settings_and_secure_cookies_behind_https():
    started = load_settings(**PRODUCTION, HAYON_HTTPS="true")

    assert started.returncode == 0, started.stderr
    values = json.loads(started.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"DEBUG": "true"}, "DEBUG must be off"),
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be set"),
        ({"HAYON_CREDENTIALS_KEYS": ""}, "HAYON_CREDENTIALS_KEYS"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS"),
        ({"HAYON_FETCH_ALLOW_PRIVATE": "true"}, "HAYON_FETCH_ALLOW_PRIVATE must be off"),
    ],
)
def test_production_refuses_to_start_with_a_development_value(change, complaint):
    environment = {k: v for k, v in {**PRODUCTION, **change}.items() if v}

    refused = load_settings(**environment)

    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert complaint in refused.stderr


def test_development_runs_with_the_default_secret_but_production_says_why_not():
    development = load_settings()
    production = load_settings(HAYON_ENV="production")

    assert development.returncode == 0, development.stderr
    assert production.returncode != 0
    for complaint in ("SECRET_KEY", "HAYON_CREDENTIALS_KEYS"):
        assert complaint in production.stderr


def test_it_refuses_a_sqlite_too_old_to_claim_deliveries():
    sqlite = {"DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3"}}}
    postgres = {"DATABASES": {"default": {"ENGINE": "django.db.backends.postgresql"}}}

    with pytest.raises(ImproperlyConfigured, match=r"SQLite 3\.31\.1 is too old"):
        check_sqlite_version(sqlite, (3, 31, 1))
    check_sqlite_version(sqlite, (3, 35, 0))
    check_sqlite_version(postgres, (3, 31, 1))

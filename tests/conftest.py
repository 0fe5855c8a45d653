"""Shared fixtures: real RabbitMQ (a vhost per run), a real Celery worker process, a real
Bluesky PDS, and named users. See tests/README.md for what each end-to-end test needs."""

import importlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from hayon.celery import app as celery_app
from tests.fakes import FAKES
from tests.support.rabbitmq import VirtualHost
from tests.support.worker import WorkerProcess

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"

# Settings the worker process runs with during tests: short retry delays so a test that
# retries three times takes seconds, not minutes.
WORKER_SETTINGS = {
    "HAYON_RETRY_DELAYS": "1,2,3",
    "HAYON_RETRY_JITTER": "0.1",
    "HAYON_LOST_MESSAGE_GRACE": "5",
    "HAYON_LOG_LEVEL": "INFO",
    # Test servers (Mastodon instances, link-card pages) live on loopback.
    "HAYON_FETCH_ALLOW_PRIVATE": "true",
}


def wait_for(check: Callable[[], object], timeout: float = 30, interval: float = 0.2):
    """Return check()'s first truthy value, polling until timeout; fail the test otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s: {check.__doc__ or check}")


@pytest.fixture(scope="session", autouse=True)
def broker() -> Iterator[VirtualHost]:
    """Point every producer in this process at a fresh RabbitMQ virtual host."""
    vhost = VirtualHost().create()
    celery_app.conf.broker_url = vhost.url
    celery_app.conf.broker_transport_options = {"confirm_publish": True}
    yield vhost
    celery_app.pool.force_close_all()
    vhost.delete()


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.fail(
            "end-to-end tests share the test database with a worker process and need "
            "PostgreSQL: run them with scripts/test or set DATABASE_URL=postgres://..."
        )
    auth = quote(db["USER"] or "")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def fakes() -> Iterator[dict]:
    """Every fake platform server in tests/fakes, started once for the session."""
    started = {}
    for name, target in FAKES.items():
        module_name, class_name = target.split(":")
        started[name] = getattr(importlib.import_module(module_name), class_name)().start()
    yield started
    for fake in started.values():
        fake.stop()


@pytest.fixture(scope="session")
def platform_env(fakes) -> dict[str, str]:
    """Settings the worker needs to reach the fakes (API base URLs and the like)."""
    env: dict[str, str] = {}
    for fake in fakes.values():
        env.update(fake.env())

    # The test process connects accounts itself, so it needs the same URLs as the worker.
    for name, value in env.items():
        if hasattr(django_settings, name):
            setattr(django_settings, name, value)
    return env


@pytest.fixture(scope="session")
def worker_env(django_db_setup, django_db_blocker, broker, platform_env) -> dict[str, str]:
    with django_db_blocker.unblock():
        url = database_url()
    return {
        **os.environ,
        "DATABASE_URL": url,
        "CELERY_BROKER_URL": broker.url,
        **WORKER_SETTINGS,
        **platform_env,
    }


@pytest.fixture(scope="session")
def worker(worker_env) -> Iterator[WorkerProcess]:
    # One log per test run (several runs may share a machine); tests read worker.log_path.
    log_path = ARTIFACTS / "logs" / f"worker-{os.getpid()}.log"
    process = WorkerProcess(worker_env, log_path).start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def pds() -> Iterator:
    from tests.support.pds import LocalPDS

    server = LocalPDS()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "alice-password-1")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "bob-password-1")


@pytest.fixture(autouse=True)
def fresh_throttles() -> None:
    """Request counts for throttling live in the cache: start every test with none."""
    cache.clear()


@pytest.fixture(autouse=True)
def loopback_pds_reachable(request, settings) -> None:
    """Tests with the local PDS connect accounts to it on loopback, which is refused unless
    HAYON_FETCH_ALLOW_PRIVATE is on (as it is for the worker, see WORKER_SETTINGS)."""
    if "pds" in request.fixturenames:
        settings.HAYON_FETCH_ALLOW_PRIVATE = True


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:
    """Hash test users' passwords cheaply: the production hasher costs ~0.3 s per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def client_for(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def alice_api(alice) -> APIClient:
    return client_for(alice)


@pytest.fixture
def bob_api(bob) -> APIClient:
    return client_for(bob)

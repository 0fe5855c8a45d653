"""The web health endpoint and the heartbeats that compose.yaml's healthchecks read.

The endpoint is asked against the real PostgreSQL and RabbitMQ; the heartbeats come from a
real `celery worker` and `celery beat` process, checked with the very command compose runs.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connections
from django.test import Client

from hayon import health
from hayon.celery import app as celery_app
from tests.conftest import ARTIFACTS, ROOT, wait_for
from tests.support.rabbitmq import VirtualHost
from tests.support.worker import WorkerProcess


def closed_port() -> int:
    """Return a loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthcheck(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run the command compose.yaml's healthchecks run."""
    return subprocess.run(
        [sys.executable, "-m", "hayon.health", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.django_db
def test_it_answers_ok_without_login_when_database_and_broker_answer():
    response = Client().get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


@pytest.mark.django_db
def test_it_answers_503_naming_the_broker_when_rabbitmq_is_unreachable(monkeypatch):
    monkeypatch.setitem(
        celery_app.conf, "broker_url", f"amqp://guest:s3cret@127.0.0.1:{closed_port()}//"
    )

    response = Client().get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is False
    assert "refused" in body["checks"]["broker"]["error"].lower()
    assert "s3cret" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_it_answers_503_naming_the_database_when_postgresql_is_unreachable(monkeypatch):
    database = connections["default"]
    database.close()
    monkeypatch.setitem(database.settings_dict, "PORT", closed_port())

    response = Client().get("/health/")
    database.close()

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is False
    assert checks["database"]["error"]
    assert checks["broker"]["ok"] is True


def test_it_only_answers_get():
    assert Client().post("/health/").status_code == 405


def test_it_reports_a_missing_heartbeat_and_where_it_looked(settings, tmp_path, capsys):
    settings.HAYON_HEARTBEAT_DIR = str(tmp_path)

    assert health.main(["heartbeat", "worker"]) == 1
    assert str(tmp_path / "worker.heartbeat") in capsys.readouterr().err


def test_it_reports_a_stale_heartbeat_with_its_age(settings, tmp_path, capsys):
    settings.HAYON_HEARTBEAT_DIR = str(tmp_path)
    health.beat_heart("worker")
    old = time.time() - 300
    os.utime(tmp_path / "worker.heartbeat", (old, old))

    assert health.main(["heartbeat", "worker", "--max-age", "60"]) == 1
    assert "300s old" in capsys.readouterr().err


@pytest.fixture
def own_vhost():
    """A broker of its own, so the processes started here never meet the session's worker."""
    vhost = VirtualHost().create()
    yield vhost
    try:
        vhost.delete()
    except subprocess.CalledProcessError:
        pass  # the test deleted it already


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_it_sees_a_worker_healthy_while_it_consumes_and_stale_once_it_loses_the_broker(
    worker_env, own_vhost, tmp_path
):
    env = {
        **worker_env,
        "CELERY_BROKER_URL": own_vhost.url,
        "HAYON_HEARTBEAT_DIR": str(tmp_path),
        "HAYON_HEARTBEAT_INTERVAL": "0.5",
    }
    worker = WorkerProcess(env, ARTIFACTS / "logs" / "health-worker.log", concurrency=1)
    worker.start()
    try:
        wait_for(lambda: healthcheck(env, "heartbeat", "worker", "--max-age", "3").returncode == 0)

        # Deleting the vhost closes the worker's connection. Celery retries and, refused
        # again, may give up; either way the heartbeat must stop, not hide it.
        own_vhost.delete()
        time.sleep(4)
        stale = healthcheck(env, "heartbeat", "worker", "--max-age", "3")
    finally:
        worker.stop(timeout=10)

    assert stale.returncode == 1
    assert "worker heartbeat is" in stale.stderr


@pytest.mark.e2e
def test_it_sees_beat_healthy_while_it_runs(own_vhost, tmp_path):
    env = {
        **os.environ,
        "CELERY_BROKER_URL": own_vhost.url,
        "HAYON_HEARTBEAT_DIR": str(tmp_path),
        "HAYON_DISPATCH_INTERVAL": "1",
    }
    assert healthcheck(env, "heartbeat", "beat").returncode == 1

    log_path = ARTIFACTS / "logs" / "health-beat.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with Path(log_path).open("ab") as log:
        beat = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "hayon",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(tmp_path / "celerybeat-schedule"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: healthcheck(env, "heartbeat", "beat").returncode == 0)
        finally:
            beat.terminate()
            beat.wait(timeout=20)

"""The laptop path: `scripts/run` on a machine with nothing but Python.

The script itself runs, with a temporary data folder, SQLite, no CELERY_BROKER_URL and the
RabbitMQ check pointed at a closed port, so web, worker and beat fall back to the file broker
as on a laptop without RabbitMQ. Posts made over HTTP must reach the real local PDS.
"""

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from tests.conftest import ROOT, wait_for
from tests.support.bluesky import read_post
from tests.support.pds import PDSAccount

RUN_SCRIPT = ROOT / "scripts" / "run"
FIRST_USER = re.compile(r"Created the first user: (\S+) / (\S+)")
STOP_TIMEOUT = 30.0

# Settings that would point the run elsewhere than a fresh laptop's defaults.
NOT_ON_A_LAPTOP = ("DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")


def free_port() -> int:
    """Return a loopback port nothing listens on (the OS just handed it out and took it back)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class LaptopRun:
    process: subprocess.Popen
    log_path: Path
    data_dir: Path
    url: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def processes(self) -> list[int]:
        """Return the live processes (not zombies) of the run's session: the script and all
        it started, whatever process group each is in."""
        members = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended while we looked
            state, session = fields[0], int(fields[3])
            if session == self.process.pid and state != "Z":
                members.append(int(stat.parent.name))
        return members

    def stop(self) -> None:
        """Press Ctrl-C, as a person would: SIGINT to the terminal's foreground group."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)

        deadline = time.monotonic() + STOP_TIMEOUT
        while self.processes() and time.monotonic() < deadline:
            time.sleep(0.2)

        left = self.processes()
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        self.process.wait(10)
        assert not left, f"scripts/run left processes behind: {left}\n{self.log()[-3000:]}"

    def started(self) -> bool:
        """the worker is ready and the web process answers, or the script gave up"""
        if self.process.poll() is not None:
            return True
        return " ready." in self.log() and answers(self.url)


def laptop_env(data_dir: Path, bind: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k not in NOT_ON_A_LAPTOP}
    environment.update(
        HAYON_DATA_DIR=str(data_dir),
        HAYON_BIND=bind,
        HAYON_ENV_FILE=str(data_dir / "no.env"),
        # Nothing listens there: the RabbitMQ this machine runs stays out of sight.
        HAYON_LOCAL_RABBITMQ_URL=f"amqp://guest:guest@127.0.0.1:{free_port()}//",
        HAYON_HEARTBEAT_DIR=str(data_dir / "heartbeat"),
        # The PDS the account is connected to lives on loopback.
        HAYON_FETCH_ALLOW_PRIVATE="true",
    )
    return environment


@pytest.fixture(scope="module")
def laptop(tmp_path_factory) -> Iterator[LaptopRun]:
    data_dir = tmp_path_factory.mktemp("laptop")
    bind = f"127.0.0.1:{free_port()}"
    log_path = data_dir / "run.log"

    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["bash", str(RUN_SCRIPT)],
            cwd=ROOT,
            env=laptop_env(data_dir, bind),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session and group, as a terminal gives it
        )
    run = LaptopRun(process, log_path, data_dir, f"http://{bind}")

    try:
        wait_for(run.started, timeout=120)
        assert process.poll() is None, f"scripts/run exited:\n{run.log()[-3000:]}"
        yield run
    finally:
        run.stop()


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health/", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def admin_api(laptop) -> Iterator[httpx.Client]:
    username, password = FIRST_USER.search(laptop.log()).groups()
    response = httpx.post(
        f"{laptop.url}/api/auth/token/", data={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text

    headers = {"Authorization": f"Token {response.json()['token']}"}
    with httpx.Client(base_url=laptop.url, headers=headers, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def alice_on_pds(pds) -> PDSAccount:
    return pds.create_account("alice")


@pytest.fixture(scope="module")
def bluesky(admin_api, pds, alice_on_pds) -> dict:
    response = admin_api.post(
        "/api/accounts/bluesky/",
        json={
            "handle": alice_on_pds.handle,
            "app_password": alice_on_pds.password,
            "service_url": pds.url,
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def published_delivery(api: httpx.Client, post_id: int):
    def check():
        """the post's one delivery is published"""
        [delivery] = api.get(f"/api/posts/{post_id}/status/").json()["deliveries"]
        return delivery if delivery["status"] == "published" else None

    return check


def test_it_falls_back_to_the_file_broker_and_says_so(laptop):
    log = laptop.log()

    assert "No CELERY_BROKER_URL set and no RabbitMQ on 127.0.0.1:" in log
    assert f"using the file broker in {laptop.data_dir / 'broker'}" in log
    assert (laptop.data_dir / "hayon.sqlite3").is_file()


def test_a_post_made_over_http_appears_on_the_pds(laptop, admin_api, bluesky, pds, alice_on_pds):
    text = "Hello from a laptop #hayon"

    response = admin_api.post("/api/posts/", json={"text": text, "accounts": [bluesky["id"]]})
    assert response.status_code == 201, response.text

    delivery = wait_for(published_delivery(admin_api, response.json()["id"]), timeout=30)
    assert read_post(pds.url, alice_on_pds, delivery["remote_id"]).text == text


def test_a_scheduled_post_goes_out_at_its_time_not_before(
    laptop, admin_api, bluesky, pds, alice_on_pds
):
    text = "Scheduled from a laptop"
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=8)

    response = admin_api.post(
        "/api/posts/",
        json={"text": text, "accounts": [bluesky["id"]], "scheduled_at": due.isoformat()},
    )
    assert response.status_code == 201, response.text

    delivery = wait_for(published_delivery(admin_api, response.json()["id"]), timeout=40)
    published_at = datetime.fromisoformat(delivery["published_at"])
    assert due <= published_at < due + timedelta(seconds=15)
    assert read_post(pds.url, alice_on_pds, delivery["remote_id"]).text == text


@pytest.mark.django_db
def test_it_creates_one_administrator_and_prints_the_password(capsys, monkeypatch):
    monkeypatch.delenv("HAYON_ADMIN_PASSWORD", raising=False)

    call_command("create_first_user")

    out = capsys.readouterr().out
    username, password = FIRST_USER.search(out).groups()
    admin = get_user_model().objects.get()
    assert username == admin.username == "admin"
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(password)
    assert len(password) >= 16


@pytest.mark.django_db
def test_it_does_nothing_once_a_user_exists(capsys, alice):
    call_command("create_first_user")

    assert "nothing to do" in capsys.readouterr().out
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["alice"]

"""Scheduled posts go out on time, exactly once, and can be cancelled or moved until they go.

Real RabbitMQ (native delayed delivery through quorum queues), a real worker process and the
real local PDS, whose records say how many times a text was published.
"""

import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from hayon.celery import app as celery_app
from hayon.topology import platform_queue_name
from posts.dispatch import dispatch_due
from posts.models import Delivery
from tests.conftest import ARTIFACTS, wait_for
from tests.support.bluesky import connect, records_with
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Publishing may start up to one second late (whole-second countdowns) and takes a few
# hundredths more; the bar is 1.5 s.
ON_TIME = 1.5


@pytest.fixture
def account(alice_api, pds):
    return connect(alice_api, pds.url, pds.create_account("sched"))


def at(seconds: float) -> datetime:
    """Return a whole-second instant about `seconds` from now: Hayon rounds fractions up, which
    would otherwise count as lateness."""
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)


def schedule(api, account, text: str, when: datetime) -> int:
    response = api.post(
        "/api/posts/",
        {"text": text, "accounts": [account["id"]], "scheduled_at": when.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "SCHEDULED"
    return response.json()["id"]


def published(post_id: int):
    def check():
        """the post's delivery is published"""
        delivery = Delivery.objects.get(post_id=post_id)
        return delivery if delivery.status == "published" else None

    return check


def lateness(delivery: Delivery, due: datetime) -> float:
    started = delivery.attempts.order_by("number").first().started_at
    return (started - due).total_seconds()


def test_a_short_delay_is_not_held_up_by_a_longer_one(worker, pds, account, alice_api):
    later = schedule(alice_api, account, "In a minute", at(60))
    due = at(3)
    sooner = schedule(alice_api, account, "In three seconds", due)

    delivery = wait_for(published(sooner), timeout=15)

    assert 0 <= lateness(delivery, due) < ON_TIME
    assert Delivery.objects.get(post_id=later).status == "queued"
    assert alice_api.post(f"/api/posts/{later}/cancel/").status_code == 200


def test_a_cancelled_post_never_reaches_the_platform(worker, pds, account, alice_api):
    post_id = schedule(alice_api, account, "Cancelled in time", at(2))

    assert alice_api.post(f"/api/posts/{post_id}/cancel/").status_code == 200
    time.sleep(4)

    delivery = Delivery.objects.get(post_id=post_id)
    assert delivery.status == "cancelled"
    assert delivery.attempts.count() == 0
    assert records_with(pds.url, account["login"], "Cancelled in time") == 0


def test_a_rescheduled_post_is_published_once_at_the_new_time(worker, pds, account, alice_api):
    post_id = schedule(alice_api, account, "Moved once", at(2))
    new_time = at(5)

    response = alice_api.post(
        f"/api/posts/{post_id}/reschedule/", {"scheduled_at": new_time.isoformat()}, format="json"
    )

    assert response.status_code == 200
    delivery = wait_for(published(post_id), timeout=15)
    assert 0 <= lateness(delivery, new_time) < ON_TIME
    time.sleep(1)
    assert delivery.attempts.count() == 1
    assert records_with(pds.url, account["login"], "Moved once") == 1


def test_rescheduling_twice_quickly_still_publishes_once(worker, pds, account, alice_api):
    post_id = schedule(alice_api, account, "Moved twice", at(2))
    for seconds in (3, 4):
        when = at(seconds)
        response = alice_api.post(
            f"/api/posts/{post_id}/reschedule/", {"scheduled_at": when.isoformat()}, format="json"
        )
        assert response.status_code == 200

    delivery = wait_for(published(post_id), timeout=15)
    assert 0 <= lateness(delivery, when) < ON_TIME
    time.sleep(2)
    assert Delivery.objects.get(post_id=post_id).attempt_count == 1
    assert records_with(pds.url, account["login"], "Moved twice") == 1


def test_a_worker_restart_before_the_due_time_loses_nothing(worker, pds, account, alice_api):
    due = at(8)
    post_id = schedule(alice_api, account, "Across a restart", due)

    worker.restart()

    delivery = wait_for(published(post_id), timeout=20)
    assert 0 <= lateness(delivery, due) < ON_TIME
    assert records_with(pds.url, account["login"], "Across a restart") == 1


def purge_broker() -> None:
    """Drop every message the broker holds for Bluesky, delayed ones included."""
    with celery_app.connection_for_write() as connection:
        channel = connection.channel()
        names = [f"celery_delayed_{level}" for level in range(28)]
        for name in [*names, platform_queue_name("bluesky")]:
            channel.queue_purge(name)
        channel.close()


def test_the_dispatcher_resends_a_message_the_broker_lost(
    worker, pds, account, alice_api, settings
):
    settings.HAYON_LOST_MESSAGE_GRACE = 1
    due = at(2)
    post_id = schedule(alice_api, account, "Lost and found", due)

    purge_broker()
    time.sleep(4)
    assert Delivery.objects.get(post_id=post_id).status == "queued"

    assert dispatch_due()["resent"] == 1

    wait_for(published(post_id), timeout=15)
    assert records_with(pds.url, account["login"], "Lost and found") == 1
    assert Delivery.objects.get(post_id=post_id).attempt_count == 1


@pytest.fixture
def beat(worker_env):
    """Celery beat as its own process, dispatching every second with a 5 s horizon."""
    env = {**worker_env, "HAYON_DISPATCH_INTERVAL": "1", "HAYON_DISPATCH_HORIZON": "5"}
    log = ARTIFACTS / "logs" / f"beat-{time.time_ns()}.log"
    process = BeatProcess(env, log).start()
    yield process
    process.stop()


class BeatProcess(WorkerProcess):
    ready_marker = b"beat: Starting"

    def command(self) -> list[str]:
        schedule_file = self.log_path.with_suffix(".schedule")
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "hayon",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(schedule_file),
        ]


def test_beat_sends_a_delivery_when_it_enters_the_horizon(
    worker, beat, pds, account, alice_api, settings
):
    settings.HAYON_DISPATCH_HORIZON = 5
    due = at(12)

    post_id = schedule(alice_api, account, "Sent by the dispatcher", due)

    delivery = Delivery.objects.get(post_id=post_id)
    assert delivery.status == "pending"
    assert delivery.enqueued_at is None
    delivery = wait_for(published(post_id), timeout=25)
    assert 0 <= lateness(delivery, due) < ON_TIME


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        ("2026-03-29T02:30:00", "2026-03-29T01:30:00Z"),  # spring gap: moved forward
        ("2026-10-25T02:30:00", "2026-10-25T00:30:00Z"),  # autumn overlap: first occurrence
    ],
)
def test_the_api_shows_the_utc_instant_chosen_across_daylight_saving(
    alice_api, account, local, utc
):
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=UTC)):
        response = alice_api.post(
            "/api/posts/",
            {
                "text": "Across the clock change",
                "accounts": [account["id"]],
                "scheduled_at": local,
                "timezone": "Europe/Berlin",
                "draft": True,
            },
            format="json",
        )

    assert response.status_code == 201, response.json()
    assert response.json()["scheduled_at"] == utc
    assert response.json()["timezone"] == "Europe/Berlin"

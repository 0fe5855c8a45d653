"""Is each process of Hayon alive and able to do its work?

- Web: `GET /health/` answers 200 when the database and the broker both answer, 503 naming
  the one that does not. It needs no login, so a load balancer or Docker can call it.
- Worker and beat: they touch a heartbeat file on a timer of their own event loop
  (HAYON_HEARTBEAT_DIR/<process>.heartbeat). The worker's timer runs only while its consumer
  is connected to the broker, so a worker stuck reconnecting goes stale too.
- `python -m hayon.health heartbeat worker` and `python -m hayon.health http URL` are the
  commands compose.yaml's healthchecks run: exit 0 when healthy, 1 with a reason otherwise.
"""

import argparse
import logging
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from celery import bootsteps
from celery.beat import PersistentScheduler
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

BROKER_TIMEOUT = 3.0


@dataclass(frozen=True)
class Check:
    ok: bool
    ms: float
    error: str = ""


def timed(probe) -> Check:
    """Run a probe; return whether it passed, how long it took, and why it failed."""
    started = time.monotonic()
    try:
        probe()
    except Exception as exc:
        elapsed = (time.monotonic() - started) * 1000
        # The class name and message say enough (refused, timed out, auth) and carry no
        # secret: neither psycopg nor kombu puts the password of a URL in its errors.
        return Check(False, round(elapsed, 1), f"{type(exc).__name__}: {exc}"[:200])

    return Check(True, round((time.monotonic() - started) * 1000, 1))


def probe_database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def probe_broker() -> None:
    from hayon.celery import app

    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT) as connection:
        connection.connect()


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database and the broker answer, 503 otherwise."""
    checks = {"database": timed(probe_database), "broker": timed(probe_broker)}
    healthy = all(check.ok for check in checks.values())

    if not healthy:
        failing = {name: check.error for name, check in checks.items() if not check.ok}
        logger.warning("health check failing: %s", failing)
    return JsonResponse(
        {
            "status": "ok" if healthy else "failing",
            "checks": {name: asdict(check) for name, check in checks.items()},
        },
        status=200 if healthy else 503,
    )


# Heartbeats ------------------------------------------------------------------------------


def heartbeat_path(process: str) -> Path:
    return Path(settings.HAYON_HEARTBEAT_DIR) / f"{process}.heartbeat"


def beat_heart(process: str) -> None:
    """Record that the process is alive now (the file's modification time is the beat)."""
    path = heartbeat_path(process)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{time.time():.3f}\n")
    except OSError:
        # A full or read-only disk must not stop publishing; the healthcheck will say so.
        logger.exception("could not write the %s heartbeat to %s", process, path)


def heartbeat_age(process: str) -> float | None:
    """Return the seconds since the process last beat, or None if it never did."""
    try:
        return time.time() - heartbeat_path(process).stat().st_mtime
    except FileNotFoundError:
        return None


class WorkerHeartbeat(bootsteps.StartStopStep):
    """A consumer step: beats every HAYON_HEARTBEAT_INTERVAL while the worker consumes.

    It starts after the task consumer (so only once the broker connection is up) and is
    stopped with it whenever the connection is lost and the consumer restarts.
    """

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.timer_entry = None

    def start(self, parent) -> None:
        beat_heart("worker")
        self.timer_entry = parent.timer.call_repeatedly(
            settings.HAYON_HEARTBEAT_INTERVAL, beat_heart, ("worker",)
        )

    def stop(self, parent) -> None:
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    shutdown = stop


class HeartbeatScheduler(PersistentScheduler):
    """Celery beat's default scheduler, beating on every tick (at least once per dispatch)."""

    def tick(self, *args, **kwargs) -> float:
        beat_heart("beat")
        return super().tick(*args, **kwargs)


# The healthcheck command -----------------------------------------------------------------


def default_max_age(process: str) -> float:
    """Return how stale a heartbeat may get: beat ticks only as often as its schedule needs."""
    if process == "beat":
        return max(settings.HAYON_HEARTBEAT_MAX_AGE, 3 * settings.HAYON_DISPATCH_INTERVAL)
    return settings.HAYON_HEARTBEAT_MAX_AGE


def check_heartbeat(process: str, max_age: float) -> tuple[bool, str]:
    age = heartbeat_age(process)
    if age is None:
        return False, f"no {process} heartbeat at {heartbeat_path(process)}"
    if age > max_age:
        return False, f"{process} heartbeat is {age:.0f}s old (limit {max_age:.0f}s)"
    return True, f"{process} heartbeat {age:.1f}s old"


def check_url(url: str, timeout: float) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return True, f"{url} answered {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url} answered {exc.code}: {exc.read(300).decode(errors='replace')}"
    except OSError as exc:
        return False, f"{url} did not answer: {exc}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hayon.health", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    heartbeat = commands.add_parser("heartbeat", help="is a worker's or beat's heartbeat fresh?")
    heartbeat.add_argument("process", choices=["worker", "beat"])
    heartbeat.add_argument("--max-age", type=float, default=None, help="seconds")
    http = commands.add_parser("http", help="does a URL answer with a 2xx status?")
    http.add_argument("url")
    http.add_argument("--timeout", type=float, default=5.0)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Check one process's health for a container healthcheck; return the exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "heartbeat":
        ok, message = check_heartbeat(args.process, args.max_age or default_max_age(args.process))
    else:
        ok, message = check_url(args.url, args.timeout)

    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

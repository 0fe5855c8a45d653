"""Worker memory with nothing scheduled and with 100,000 deliveries scheduled a week ahead.

    .venv/bin/python -m bench.memory [--deliveries 100000] [--settle 30]

A delivery further ahead than the dispatch horizon is a row in PostgreSQL, not a message, so
the worker's resident memory should not depend on how many are scheduled (target: within
10%). The worker and beat run as in production, with the dispatcher every 5 s so it scans
the scheduled rows several times while memory is sampled.
"""

import argparse
import statistics
import sys
import time
import uuid
from datetime import timedelta

from bench.pipeline import make_accounts
from bench.support import LoadWatch, Process, Stack, machine, table

DISPATCH_INTERVAL = 5
TOLERANCE = 0.10


def schedule_a_week_ahead(accounts: list[int], count: int) -> float:
    """Insert posts and deliveries as create_post leaves them; return the seconds it took."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from posts.models import Delivery, DeliveryStatus, Post, PostStatus

    owner = User.objects.get(accounts__pk=accounts[0])
    due = timezone.now() + timedelta(days=7)
    started = time.monotonic()
    for offset in range(0, count, 5000):
        size = min(5000, count - offset)
        posts = Post.objects.bulk_create(
            Post(owner=owner, text=f"Next week {offset + n}", scheduled_at=due,
                 status=PostStatus.SCHEDULED)
            for n in range(size)
        )  # fmt: skip
        Delivery.objects.bulk_create(
            Delivery(
                post=post,
                account_id=accounts[n % len(accounts)],
                platform="tumblr",
                status=DeliveryStatus.PENDING,
                next_attempt_at=due + timedelta(seconds=n),
                idempotency_key=uuid.uuid4().hex,
            )
            for n, post in enumerate(posts)
        )
    return time.monotonic() - started


def sample_rss(worker: Process, seconds: int) -> float:
    """Return the median resident memory over the last half of `seconds` of sampling."""
    samples = []
    for _ in range(seconds):
        samples.append(worker.rss_mib())
        time.sleep(1)
    return statistics.median(samples[len(samples) // 2 :])


def dispatch_runtimes(worker: Process) -> list[float]:
    return [
        float(line.split("succeeded in ")[1].split("s:")[0])
        for line in worker.log().splitlines()
        if "Task posts.dispatch_due[" in line and "succeeded in " in line
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=100_000)
    parser.add_argument("--settle", type=int, default=30, help="seconds sampled per phase")
    args = parser.parse_args()
    load = LoadWatch()

    settings = {"HAYON_LOG_LEVEL": "INFO", "HAYON_DISPATCH_INTERVAL": str(DISPATCH_INTERVAL)}
    with Stack("memory", settings) as stack:
        _, accounts = make_accounts({"access_token": "unused", "blogs": ["week-ahead"]})
        worker = stack.worker(pool="threads", concurrency=32)
        stack.start(
            "beat",
            [sys.executable, "-m", "celery", "-A", "hayon", "beat", "--loglevel", "INFO",
             "--schedule", stack.env["HAYON_HEARTBEAT_DIR"] + "-celerybeat-schedule"],
            ready="beat: Starting",
        )  # fmt: skip

        empty = sample_rss(worker, args.settle)
        empty_runs = dispatch_runtimes(worker)
        inserting = schedule_a_week_ahead(accounts, args.deliveries)
        full = sample_rss(worker, args.settle)
        full_runs = dispatch_runtimes(worker)[len(empty_runs) :]
        worker.stop()

        fresh = stack.worker(pool="threads", concurrency=32)
        fresh_full = sample_rss(fresh, args.settle)

        from posts.models import Delivery

        scheduled = Delivery.objects.filter(status="pending").count()
        sent = Delivery.objects.filter(enqueued_at__isnull=False).count()

    print_report(
        [empty, full, fresh_full], empty_runs, full_runs, scheduled, sent, inserting, load
    )


def print_report(rss, empty_runs, full_runs, scheduled, sent, inserting, load) -> None:
    empty, full, fresh_full = rss
    rows = [
        ["0 scheduled", f"{empty:.1f}", "1.00", f"{statistics.median(empty_runs) * 1000:.1f}"],
        [
            f"{scheduled:,} scheduled a week ahead (same worker)",
            f"{full:.1f}",
            f"{full / empty:.2f}",
            f"{statistics.median(full_runs) * 1000:.1f}" if full_runs else "-",
        ],
        [
            f"{scheduled:,} scheduled a week ahead (fresh worker)",
            f"{fresh_full:.1f}",
            f"{fresh_full / empty:.2f}",
            "-",
        ],
    ]
    print(f"bench.memory on {machine()}")
    print(load.report())
    print(
        f"worker threads x 32 with beat dispatching every {DISPATCH_INTERVAL} s; RSS is the "
        f"median of the last half of each sampling period; rows inserted in {inserting:.0f} s; "
        f"messages sent for them: {sent}\n"
    )
    print(table(rows, ["case", "worker RSS MiB", "ratio", "dispatcher run ms (median)"]))
    worst = max(abs(full / empty - 1), abs(fresh_full / empty - 1))
    verdict = "met" if worst <= TOLERANCE else "MISSED"
    print(
        f"\nTarget: the same within {TOLERANCE:.0%}: {verdict} (largest difference {worst:.1%})."
    )


if __name__ == "__main__":
    main()

"""Pipeline benchmark: deliveries published per second, API to platform fake, end to end.

    .venv/bin/python -m bench.pipeline [--posts 200] [--sweep-posts 50] [--no-sweep]

For each case the posts go in through the API (gunicorn), each to six Tumblr blogs on a fake
Tumblr (bench/fake.py) answering at once or after 200 ms. Their messages wait in RabbitMQ
while no worker runs; then a `celery worker` starts and the clock runs from its first attempt
to its last published delivery. The ceiling is the same worker draining as many no-op tasks
(bench/noop.py) on the same broker, queue type, acks and prefetch.
"""

import argparse
import json
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from bench.api import free_port
from bench.support import LoadWatch, Stack, machine, table, wait_until, worker_command

BLOGS = 6
CHOSEN = ("threads", 32)  # what compose.yaml's workers run; the sweep shows why
SWEEP = [("threads", 8), ("threads", 64), ("prefork", 2)]
LOG_TIME = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}): INFO/[^\]]*\] Task bench\.noop")


@dataclass
class Run:
    case: str
    pool: str
    concurrency: int
    deliveries: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds


def start_fake(stack: Stack, latency: float) -> dict:
    fake = stack.start(
        f"fake-{int(latency * 1000)}ms",
        [sys.executable, "-m", "bench.fake", "--latency", str(latency), "--blogs", str(BLOGS)],
        ready='"url"',
    )
    return json.loads(fake.log().splitlines()[0])


def make_accounts(fake: dict) -> tuple[str, list[int]]:
    """Create a user with an API token and one account per fake blog."""
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from platforms.models import Account

    user = User.objects.create_user(f"bench-{time.monotonic_ns()}", password="bench-pass-1")
    accounts = [
        Account.objects.create(
            owner=user,
            platform="tumblr",
            handle=blog,
            remote_id=blog,
            base_url=f"https://{blog}.tumblr.com",
            credentials={"access_token": fake["access_token"], "refresh_token": ""},
        )
        for blog in fake["blogs"]
    ]
    return Token.objects.create(user=user).key, [a.pk for a in accounts]


def submit_posts(base_url: str, token: str, accounts: list[int], posts: int) -> float:
    """POST the posts through the API, four at a time; return the seconds it took."""
    import httpx

    started = time.monotonic()
    headers = {"Authorization": f"Token {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:

        def create(number: int) -> None:
            body = {"text": f"Pipeline benchmark post {number} #bench", "accounts": accounts}
            answer = client.post("/api/posts/", json=body)
            if answer.status_code != 201:
                raise RuntimeError(f"the API answered {answer.status_code}: {answer.text[:300]}")

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(create, range(posts)))

    return time.monotonic() - started


def measure_publishing(
    stack: Stack, api: str, case: str, pool: str, concurrency: int, fake: dict, posts: int
) -> Run:
    """Queue the posts with no worker running, then time one worker publishing them all."""
    from posts.models import Attempt, Delivery, DeliveryStatus

    token, accounts = make_accounts(fake)
    submit_posts(api, token, accounts, posts)
    expected = posts * len(accounts)
    mine = Delivery.objects.filter(account_id__in=accounts)
    wait_until(lambda: mine.filter(enqueued_at__isnull=False).count() == expected, 60, "sends")

    stack.settings["HAYON_TUMBLR_API_URL"] = fake["url"]
    worker = stack.worker(pool=pool, concurrency=concurrency)
    wait_until(
        lambda: mine.filter(status=DeliveryStatus.PUBLISHED).count() == expected,
        600,
        f"{expected} deliveries published ({case})",
        interval=0.5,
    )
    worker.stop()

    attempts = Attempt.objects.filter(delivery__in=mine)
    first = min(attempts.values_list("started_at", flat=True))
    last = max(attempts.values_list("finished_at", flat=True))
    return Run(case, pool, concurrency, expected, (last - first).total_seconds())


def measure_noop(stack: Stack, pool: str, concurrency: int, count: int) -> Run:
    """Time the same worker setup draining `count` no-op tasks queued beforehand."""
    from bench.noop import noop

    for number in range(count):
        noop.apply_async(args=(number,))

    worker = stack.start(
        f"noop-{pool}-{concurrency}",
        worker_command(pool=pool, concurrency=concurrency, app="bench.noop"),
        ready=" ready.",
    )
    wait_until(
        lambda: worker.log().count("succeeded in") >= count, 300, "no-op tasks", interval=0.5
    )
    worker.stop()

    stamps = [
        datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f")
        for m in map(LOG_TIME.match, worker.log().splitlines())
        if m
    ]
    return Run(
        "no-op task (ceiling)",
        pool,
        concurrency,
        count,
        (max(stamps) - min(stamps)).total_seconds(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--posts", type=int, default=200, help=f"posts per case, {BLOGS} deliveries each"
    )
    parser.add_argument("--no-sweep", action="store_true", help="skip the pool/concurrency sweep")
    parser.add_argument("--sweep-posts", type=int, default=50, help="posts per sweep case")
    args = parser.parse_args()
    load = LoadWatch()

    settings = {
        "HAYON_LOG_LEVEL": "INFO",
        "HAYON_THROTTLE_USER": "1000000/s",
        "HAYON_THROTTLE_TOKEN": "1000000/s",
    }
    runs: list[Run] = []
    with Stack("pipeline", settings) as stack:
        # A worker declares the queues and delay exchanges once, before anything is sent.
        stack.worker(pool="threads", concurrency=1).stop()

        instant = start_fake(stack, 0.0)
        slow = start_fake(stack, 0.2)
        port = free_port()
        stack.start(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "hayon.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "4"],
            ready="Booting worker",
        )  # fmt: skip
        api = f"http://127.0.0.1:{port}"

        posts = args.posts
        deliveries = posts * BLOGS
        runs.append(measure_noop(stack, *CHOSEN, deliveries))
        runs.append(
            measure_publishing(stack, api, "fake answers at once", *CHOSEN, instant, posts)
        )
        runs.append(measure_publishing(stack, api, "fake answers in 200 ms", *CHOSEN, slow, posts))
        # The sweep uses fewer posts: two processes at 200 ms a call take long over many.
        for pool, concurrency in [] if args.no_sweep else SWEEP:
            runs.append(
                measure_publishing(
                    stack, api, "fake answers in 200 ms", pool, concurrency, slow, args.sweep_posts
                )
            )

    print_report(runs, load)


def print_report(runs: list[Run], load) -> None:
    ceiling = runs[0].rate
    rows = [
        [
            run.case,
            f"{run.pool} x {run.concurrency}",
            str(run.deliveries),
            f"{run.seconds:.1f}",
            f"{run.rate:.0f}",
            f"{run.rate / ceiling:.2f}",
        ]
        for run in runs
    ]
    print(f"bench.pipeline on {machine()}")
    print(load.report() + "\n")
    print(table(rows, ["case", "pool", "deliveries", "seconds", "per second", "ratio to ceiling"]))


if __name__ == "__main__":
    main()

"""API benchmark: `POST /api/posts/` for 1 and for 6 accounts against the bare endpoint.

    .venv/bin/python -m bench.api [--seconds 30] [--connections 8]

gunicorn serves Hayon (with bench/urls.py's bare endpoint added) from a throwaway database;
wrk sends the load over loopback. The bare endpoint authenticates the same token, parses the
same JSON and inserts one row: the ceiling of this app on this server. Each post is measured
two ways: posted now, the normal path, where the request also sends one message per delivery
to RabbitMQ and waits for its publisher confirm (no worker runs, so the messages pile up in
the throwaway virtual host); and scheduled 30 days ahead, beyond the dispatch horizon, where
nothing is sent and the figures are the API's and the database's alone.
"""

import argparse
import json
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.support import LoadWatch, Stack, machine, queue_depths, table

GUNICORN_WORKERS = 2  # the machine's cores, as scripts/run does on a laptop
GUNICORN_THREADS = 4
ROUNDS = 3
TEXT = "Benchmark post with a link https://example.com/a/b?c=d and a #tag, sent by bench.api."
# Six accounts on five platforms: every platform that takes a post without an image.
SIX = ["bluesky", "mastodon", "threads", "facebook", "tumblr", "bluesky"]
PREFIX = "POST /api/posts/, "


@dataclass
class Figures:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_user_and_accounts() -> tuple[str, list[int]]:
    """Create a user, its API token and six accounts; return the token and account ids."""
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from platforms.models import Account

    user = User.objects.create_user("bench", password="bench-password-1")
    accounts = [
        Account.objects.create(
            owner=user,
            platform=platform,
            handle=f"bench{position}",
            remote_id=f"bench-{platform}-{position}",
            base_url="https://mastodon.example" if platform == "mastodon" else "",
            credentials={"access_token": "not-used-by-this-benchmark"},
        )
        for position, platform in enumerate(SIX)
    ]
    return Token.objects.create(user=user).key, [a.pk for a in accounts]


def lua_script(token: str, body: dict) -> str:
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Token {token}"\n'
    )


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * UNITS[unit]


def run_wrk(url: str, script: str, seconds: int, connections: int) -> Figures:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        output = subprocess.run(
            ["wrk", "--threads", "1", "--connections", str(connections),
             "--duration", f"{seconds}s", "--latency", "--script", lua.name, url],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout  # fmt: skip

    failures = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: .*?timeout (\d+)", output)
    return Figures(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=milliseconds(re.search(r"\s50%\s+(\S+)", output).group(1)),
        p99_ms=milliseconds(re.search(r"\s99%\s+(\S+)", output).group(1)),
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        failures=int(failures.group(1) if failures else 0) + int(errors.group(1) if errors else 0),
    )


def combine(rounds: list[Figures], seconds: int) -> Figures:
    """Return the figures of several rounds: overall rate, median p50 and p99."""
    requests = sum(r.requests for r in rounds)
    return Figures(
        requests_per_second=requests / (seconds * len(rounds)),
        p50_ms=statistics.median(r.p50_ms for r in rounds),
        p99_ms=statistics.median(r.p99_ms for r in rounds),
        requests=requests,
        failures=sum(r.failures for r in rounds),
    )


def check_one(url: str, token: str, body: dict) -> None:
    """Fail before measuring if the endpoint does not answer 201 (a 400 is fast, not good)."""
    import httpx

    answer = httpx.post(url, json=body, headers={"Authorization": f"Token {token}"}, timeout=30)
    if answer.status_code != 201:
        sys.exit(f"{url} answered {answer.status_code}: {answer.text[:500]}")


def make_cases(base: str, accounts: list[int]) -> list[tuple[str, str, dict]]:
    """Return (name, URL, body) for the ceiling and the four ways of posting."""
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    cases = [("bare insert (ceiling)", f"{base}/bench/bare/", {"text": TEXT})]
    for chosen in (accounts[:1], accounts):
        count = f"{len(chosen)} account{'s' if len(chosen) > 1 else ''}"
        now = {"text": TEXT, "accounts": chosen}
        cases.append((f"{PREFIX}{count}, post now (+ broker)", f"{base}/api/posts/", now))
        ahead = {**now, "scheduled_at": later}
        cases.append((f"{PREFIX}{count}, 30 days ahead", f"{base}/api/posts/", ahead))

    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30, help="measured seconds per case")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    seconds = max(1, args.seconds // ROUNDS)
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: scripts/install-bench (or apt-get install -y wrk)")
    load = LoadWatch()

    # Throttling still runs on every request, both endpoints alike, but never refuses one.
    settings = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "HAYON_THROTTLE_USER": "1000000/s",
        "HAYON_THROTTLE_TOKEN": "1000000/s",
    }
    with Stack("api", settings) as stack:
        token, accounts = make_user_and_accounts()
        # A worker declares the exchanges and queues once; none runs while measuring.
        stack.worker(pool="threads", concurrency=1).stop()
        port = free_port()
        stack.start(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "hayon.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(GUNICORN_WORKERS), "--threads", str(GUNICORN_THREADS)],
            ready="Booting worker",
        )  # fmt: skip
        cases = make_cases(f"http://127.0.0.1:{port}", accounts)

        for _, url, body in cases:
            check_one(url, token, body)
            run_wrk(url, lua_script(token, body), 3, args.connections)  # warm-up

        # Rounds take turns, so a busy minute on a shared machine hurts every case alike.
        rounds: dict[str, list[Figures]] = {name: [] for name, _, _ in cases}
        for _ in range(ROUNDS):
            for name, url, body in cases:
                figures = run_wrk(url, lua_script(token, body), seconds, args.connections)
                rounds[name].append(figures)
        results = {name: combine(figures, seconds) for name, figures in rounds.items()}
        messages = broker_check(stack)

    print_report(results, args, messages, load)


def broker_check(stack: Stack) -> dict[str, int]:
    """Count what reached the broker: the request logs a failed send instead of failing."""
    from posts.models import Delivery

    posted_now = Delivery.objects.filter(post__scheduled_at__isnull=True).count()

    def waiting() -> int:
        depths = queue_depths(stack.vhost.name)
        return sum(n for queue, n in depths.items() if queue.startswith("posts."))

    # RabbitMQ refreshes the counts it lists every few seconds, not at each message.
    deadline = time.monotonic() + 30
    while waiting() != posted_now and time.monotonic() < deadline:
        time.sleep(1)

    return {
        "posted now": posted_now,
        "waiting in posts.* queues": waiting(),
        "sent for posts 30 days ahead": Delivery.objects.filter(
            post__scheduled_at__isnull=False, enqueued_at__isnull=False
        ).count(),
    }


def print_report(results: dict[str, Figures], args, messages: dict[str, int], load) -> None:
    ceiling = next(iter(results.values())).requests_per_second
    rows = [
        [
            name,
            f"{f.requests_per_second:.0f}",
            f"{f.p50_ms:.1f}",
            f"{f.p99_ms:.1f}",
            f"{f.requests_per_second / ceiling:.2f}",
            f"{f.requests} / {f.failures}",
        ]
        for name, f in results.items()
    ]
    print(f"bench.api on {machine()}")
    print(load.report())
    print(
        f"gunicorn --workers {GUNICORN_WORKERS} --threads {GUNICORN_THREADS}; wrk 1 thread, "
        f"{args.connections} connections; {ROUNDS} rounds of {args.seconds // ROUNDS} s per "
        "case, taking turns, after a 3 s warm-up; PostgreSQL with CONN_MAX_AGE=60; p50 and p99 "
        "are the medians of the rounds\n"
    )
    print(
        table(
            rows,
            ["case", "req/s", "p50 ms", "p99 ms", "ratio to ceiling", "requests / failures"],
        )
    )
    print(
        f"\nDeliveries posted now: {messages['posted now']}; messages waiting in the posts.* "
        f"queues: {messages['waiting in posts.* queues']} (expected the same). Messages sent "
        f"for posts 30 days ahead: {messages['sent for posts 30 days ahead']} (expected 0)."
    )


if __name__ == "__main__":
    main()

"""API benchmark: `POST /api/posts/` for 1 and for 6 accounts against the bare endpoint.

    .venv/bin/python -m bench.api [--seconds 30] [--connections 8]

gunicorn serves Hayon (with bench/urls.py's bare endpoint added) from a throwaway database;
wrk sends the load over loopback. The bare endpoint authenticates the same token, parses the
same JSON and inserts one row: the ceiling of this app on this server. Posts are scheduled
30 days ahead, beyond the dispatch horizon, so nothing is sent to the broker and the figures
are the API's alone.
"""

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.support import Stack, machine, table

GUNICORN_WORKERS = 2  # the machine's cores, as scripts/run does on a laptop
GUNICORN_THREADS = 4
ROUNDS = 3
TEXT = "Benchmark post with a link https://example.com/a/b?c=d and a #tag, sent by bench.api."
# Six accounts on five platforms: every platform that takes a post without an image.
SIX = ["bluesky", "mastodon", "threads", "facebook", "tumblr", "bluesky"]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30, help="measured seconds per case")
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    seconds = max(1, args.seconds // ROUNDS)
    load_before = os.getloadavg()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: apt-get install wrk")

    # Throttling still runs on every request, both endpoints alike, but never refuses one.
    settings = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "HAYON_THROTTLE_USER": "1000000/s",
        "HAYON_THROTTLE_TOKEN": "1000000/s",
    }
    with Stack("api", settings) as stack:
        token, accounts = make_user_and_accounts()
        port = free_port()
        stack.start(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "hayon.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(GUNICORN_WORKERS), "--threads", str(GUNICORN_THREADS)],
            ready="Booting worker",
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        cases = [
            ("bare insert (ceiling)", f"{base}/bench/bare/", {"text": TEXT}),
            (
                "POST /api/posts/, 1 account",
                f"{base}/api/posts/",
                {"text": TEXT, "accounts": accounts[:1], "scheduled_at": later},
            ),
            (
                "POST /api/posts/, 6 accounts",
                f"{base}/api/posts/",
                {"text": TEXT, "accounts": accounts, "scheduled_at": later},
            ),
        ]

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

        from posts.models import Delivery

        sent = Delivery.objects.filter(enqueued_at__isnull=False).count()

    print_report(results, args, sent, load_before)


def print_report(results: dict[str, Figures], args, sent: int, load_before) -> None:
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
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}")
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
    print(f"\nDelivery messages sent to the broker during the run: {sent} (expected 0).")


if __name__ == "__main__":
    main()

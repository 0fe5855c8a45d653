"""What every benchmark needs: a throwaway stack, processes to start, figures to print.

A `Stack` is a PostgreSQL database and a RabbitMQ virtual host made for one run and removed
after it, with Django set up against them in this process. Benchmarks start the real
programs (gunicorn, `celery worker`, `celery beat`) as subprocesses against the same stack,
and all traffic stays on 127.0.0.1.
"""

import logging
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import psycopg

from tests.support.rabbitmq import VirtualHost

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "artifacts" / "bench"
POSTGRES = os.environ.get("HAYON_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


class Stack:
    """A throwaway database and broker vhost, and the processes started against them."""

    def __init__(self, name: str, settings: dict[str, str] | None = None):
        self.name = name
        self.database = f"hayon_bench_{name}_{uuid.uuid4().hex[:8]}"
        self.vhost = VirtualHost()
        self.settings = settings or {}
        self.processes: list[subprocess.Popen] = []

    @property
    def database_url(self) -> str:
        return f"{POSTGRES}/{self.database}"

    @property
    def env(self) -> dict[str, str]:
        """The environment of every process of this run, this one included."""
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": self.vhost.url,
            "HAYON_DB_CONN_MAX_AGE": "60",
            "HAYON_LOG_LEVEL": "WARNING",
            "HAYON_HEARTBEAT_DIR": str(LOGS / f"heartbeat-{self.name}"),
            **self.settings,
        }

    def __enter__(self) -> "Stack":
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.database}"')
        self.vhost.create()
        LOGS.mkdir(parents=True, exist_ok=True)

        os.environ.update(self.env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hayon.settings")
        import django
        from django.core.management import call_command

        django.setup()
        # The programs under test log to their files; the driver itself only says what fails.
        logging.disable(logging.INFO)
        call_command("migrate", verbosity=0)
        return self

    def __exit__(self, *exc) -> None:
        for process in reversed(self.processes):
            stop(process)

        from django.db import connections

        connections.close_all()
        from hayon.celery import app

        app.pool.force_close_all()
        self.vhost.delete()
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def start(self, name: str, command: list[str], *, ready: str | None = None) -> "Process":
        """Start a program of this run, its output in artifacts/bench/<name>.log."""
        log_path = LOGS / f"{self.name}-{name}.log"
        log = log_path.open("wb")
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.processes.append(process)
        handle = Process(process, log_path)
        if ready:
            handle.wait_for_log(ready)
        return handle

    def worker(self, *, pool: str = "threads", concurrency: int = 32, app: str = "hayon"):
        """Start `celery worker` on every queue, as compose.yaml's workers together are."""
        return self.start(
            f"worker-{pool}-{concurrency}",
            worker_command(pool=pool, concurrency=concurrency, app=app),
            ready=" ready.",
        )


def worker_command(*, pool: str, concurrency: int, app: str = "hayon") -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", app, "worker",
        "--pool", pool, "--concurrency", str(concurrency),
        "--without-gossip", "--without-mingle", "--loglevel", "INFO",
        "--hostname", f"bench-{uuid.uuid4().hex[:6]}@%h",
    ]  # fmt: skip


class Process:
    def __init__(self, popen: subprocess.Popen, log_path: Path):
        self.popen = popen
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.log_path.name} exited early:\n{self.log()[-3000:]}")
            if text in self.log():
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.log_path.name}: no {text!r} within {timeout}s")

    def rss_mib(self) -> float:
        """Return the resident memory of the process and its children, in MiB."""
        total = 0
        for pid in [self.pid, *children_of(self.pid)]:
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))
        return total / 1024

    def stop(self) -> None:
        stop(self.popen)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise RuntimeError(f"gave up waiting after {timeout}s for {what}")


def queue_depths(vhost: str) -> dict[str, int]:
    """Return the number of messages in each queue of the virtual host, as RabbitMQ counts."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "--vhost", vhost, "--no-table-headers",
         "name", "messages"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    rows = (line.rsplit(None, 1) for line in listed.splitlines() if line.strip())
    return {name: int(count) for name, count in rows}


def percentile(values: Iterable[float], fraction: float) -> float:
    """Return the nearest-rank percentile (fraction in 0..1) of the values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, round(fraction * len(ordered) + 0.5))
    return ordered[min(rank, len(ordered)) - 1]


class LoadWatch:
    """Sample the 1-minute load average while a benchmark runs.

    Other work on the machine (a test run, another benchmark) slows every figure, so each
    report says how busy the machine was, not only how busy it was before the start.
    """

    def __init__(self, interval: float = 5.0):
        self.before = os.getloadavg()
        self.samples: list[float] = []
        self.interval = interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        while not self.stopped.wait(self.interval):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()

    def report(self) -> str:
        """Return one line: the load averages before, and the 1-minute load while measuring."""
        self.stop()
        before = " ".join(f"{x:.2f}" for x in self.before)
        if not self.samples:
            return f"load average before: {before}"
        return (
            f"load average before: {before}; 1-minute load during the run: median "
            f"{statistics.median(self.samples):.2f}, max {max(self.samples):.2f} "
            f"({len(self.samples)} samples, {self.interval:.0f} s apart)"
        )


def machine() -> str:
    """Describe where the figures come from, for the top of every report."""
    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    memory = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    with psycopg.connect(f"{POSTGRES}/postgres") as connection:
        postgres = connection.execute("SHOW server_version").fetchone()[0]
    rabbitmq = subprocess.run(
        ["rabbitmqctl", "-q", "version"], capture_output=True, text=True, timeout=30
    ).stdout.strip()

    import celery
    import django

    return (
        f"{cpu.group(1) if cpu else platform.processor()}, nproc "
        f"{len(os.sched_getaffinity(0))}, "
        f"{int(memory.group(1)) / 1024 / 1024:.0f} GiB; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}, Django "
        f"{django.get_version()}, Celery {celery.__version__}, PostgreSQL {postgres}, "
        f"RabbitMQ {rabbitmq}"
    )


def table(rows: list[list[str]], header: list[str]) -> str:
    """Return rows as a Markdown table (the README keeps the last figures that way)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return (
            "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"
        )

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])

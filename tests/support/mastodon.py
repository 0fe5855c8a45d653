"""A `mastodon-mock` server in its own process, reachable by the test process and the worker.

with MastodonMock(max_characters=5000) as instance:
    instance.url, instance.token
"""

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

import requests

from tests.support.mastodon_server import TOKEN

ROOT = Path(__file__).resolve().parents[2]


class MastodonMock:
    def __init__(self, *, max_characters: int = 500):
        self.max_characters = max_characters
        self.token = TOKEN
        self.url = ""
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> Self:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.mastodon_server",
                "--max-characters",
                str(self.max_characters),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("mastodon-mock exited before it was ready")
        self.url = json.loads(line)["url"]
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/api/v2/instance", timeout=2).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"mastodon-mock at {self.url} did not answer within {timeout}s")

    def client(self):
        from mastodon import Mastodon

        return Mastodon(access_token=self.token, api_base_url=self.url)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process and self.process.stdout:
            self.process.stdout.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

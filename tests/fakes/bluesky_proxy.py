"""A fault-injecting proxy in front of the real local PDS.

Bluesky has a real server for tests, so failures are injected on the way to it rather than
faked: a test scripts a route (`fail_next("createRecord", Reply(...))`) to answer before the
PDS sees the request (nothing created), or with `after_handling=True` after the PDS created
the record (an ambiguous failure), or with a delay (a call that hangs while the worker is
killed). URLs of the PDS in responses are rewritten to the proxy's, so the SDK keeps talking
through it after login.
"""

import threading
from urllib.parse import urlencode

import requests

from tests.fakes.server import Call, FakeServer, Reply

ROUTES = {
    "createRecord": ("POST", r"/xrpc/com\.atproto\.repo\.createRecord"),
    "getRecord": ("GET", r"/xrpc/com\.atproto\.repo\.getRecord"),
    "createSession": ("POST", r"/xrpc/com\.atproto\.server\.createSession"),
    "refreshSession": ("POST", r"/xrpc/com\.atproto\.server\.refreshSession"),
    "uploadBlob": ("POST", r"/xrpc/com\.atproto\.repo\.uploadBlob"),
    "otherGet": ("GET", r"/xrpc/.+"),
    "otherPost": ("POST", r"/xrpc/.+"),
}


class BlueskyProxy(FakeServer):
    def __init__(self, pds_url: str):
        super().__init__()
        self.pds_url = pds_url.rstrip("/")
        self.seen_tokens: set[str] = set()
        self.expired_tokens: set[str] = set()
        self.token_lock = threading.Lock()
        for name, (method, pattern) in ROUTES.items():
            self.route(method, pattern, self.forward, name)

    def expire_access_tokens(self) -> None:
        """Make every access token used so far answer ExpiredToken, as after two hours."""
        with self.token_lock:
            self.expired_tokens |= self.seen_tokens

    def calls_named(self, name: str) -> list[Call]:
        return [c for c in self.calls if getattr(c, "route", "") == name]

    def forward(self, call: Call, groups: dict) -> Reply:
        token = call.headers.get("authorization", "").removeprefix("Bearer ")
        if getattr(call, "route", "") == "createRecord" and token:
            with self.token_lock:
                if token in self.expired_tokens:
                    return Reply(400, {"error": "ExpiredToken", "message": "Token has expired"})
                self.seen_tokens.add(token)

        query = urlencode(call.query, doseq=True)
        headers = {
            name: value
            for name, value in call.headers.items()
            if name in ("authorization", "content-type", "accept")
        }
        response = requests.request(
            call.method,
            f"{self.pds_url}{call.path}" + (f"?{query}" if query else ""),
            headers=headers,
            data=call.body,
            timeout=30,
        )

        body = response.content.replace(self.pds_url.encode(), self.url.encode())
        reply_headers = {"Content-Type": response.headers.get("Content-Type", "application/json")}
        for name in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "retry-after"):
            if name in response.headers:
                reply_headers[name] = response.headers[name]
        return Reply(response.status_code, body, headers=reply_headers)

"""Fetching URLs that people give us, without letting them point the server at itself.

A link in a post (for its card) or a Mastodon instance URL is chosen by whoever writes it. We
only reach public http(s) addresses on the standard ports: `ssrfguard` resolves the name once,
refuses loopback, private, link-local and reserved answers (including IPv4 hidden in IPv6
translation prefixes), connects to the address it checked rather than resolving again, and
checks every redirect the same way. On top of that we cap the time and the bytes read.

HAYON_FETCH_ALLOW_PRIVATE (off by default) also allows loopback and private networks on any
port, so tests and a single-machine setup can fetch local pages.
"""

import logging
import time
from dataclasses import dataclass
from ipaddress import ip_network

import requests
from django.conf import settings
from ssrfguard import Policy, SSRFGuardError
from ssrfguard.requests import Session

logger = logging.getLogger(__name__)

PRIVATE_NETWORKS = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)
ALL_PORTS = frozenset(range(1, 65536))
CHUNK = 16_384


class FetchError(Exception):
    """The URL could not be fetched; `message` says why in words fit for a person."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class FetchRefused(FetchError):
    """The URL points somewhere we do not go: not http(s), a private address, a bad port."""


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    content_type: str
    body: bytes


def policy() -> Policy:
    """Return what fetching may reach under the current settings."""
    if settings.HAYON_FETCH_ALLOW_PRIVATE:
        return Policy(
            allowed_networks=tuple(ip_network(n) for n in PRIVATE_NETWORKS),
            allowed_ports=ALL_PORTS,
        )
    return Policy()


def session() -> requests.Session:
    """Return a requests session that only connects where policy() allows.

    Environment proxies are ignored: a proxy would resolve the name itself, out of our reach.
    """
    guarded = Session(policy=policy())
    guarded.trust_env = False
    return guarded


def fetch(
    url: str,
    *,
    max_bytes: int | None = None,
    timeout: float | None = None,
    accept: str = "*/*",
) -> Fetched:
    """GET a URL people chose; raise FetchRefused or FetchError instead of reading too much.

    `timeout` bounds the whole exchange, redirects and body included; `max_bytes` the body.
    """
    max_bytes = max_bytes or settings.HAYON_FETCH_MAX_BYTES
    timeout = timeout or settings.HAYON_FETCH_TIMEOUT
    deadline = time.monotonic() + timeout

    try:
        with session() as client:
            response = client.get(
                url,
                timeout=timeout,
                stream=True,
                headers={"Accept": accept, "User-Agent": "Hayon link preview"},
            )
            with response:
                body = _read_capped(response, max_bytes, deadline)
    except SSRFGuardError as exc:
        raise FetchRefused(f"{url} is not a public web address: {exc}") from exc
    except requests.Timeout as exc:
        raise FetchError(f"{url} did not answer within {timeout:g} s") from exc
    except requests.RequestException as exc:
        raise FetchError(f"{url} could not be fetched ({type(exc).__name__})") from exc

    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return Fetched(response.url, response.status_code, content_type, body)


def _read_capped(response: requests.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{response.url} is larger than {max_bytes} bytes")

    body = bytearray()
    for chunk in response.iter_content(CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise FetchError(f"{response.url} is larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchError(f"{response.url} took too long to send")
    return bytes(body)

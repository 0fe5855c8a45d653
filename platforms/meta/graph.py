"""A small client for Meta's Graph APIs (graph.facebook.com, graph.instagram.com,
graph.threads.net): one request shape, one error payload, one mapping to our errors.

Graph errors come as `{"error": {"message", "type", "code", "error_subcode", ...}}`, mostly
with HTTP 400, throttling included (not 429). The codes below are from Meta's error
reference and the content-publishing guides; docs/platform-rules.md lists what we enforce.
"""

import json
import logging
import re
from typing import Any

import requests
from django.conf import settings

from platforms.errors import (
    AuthExpired,
    PermanentError,
    PublishError,
    RateLimited,
    ReconnectRequired,
    TransientError,
    Unconfirmed,
)
from platforms.http import json_of, send, status_error

logger = logging.getLogger(__name__)

TOKEN_INVALID = {102, 190}
THROTTLED = {4, 17, 32, 613, 80001}
PERMISSION = {10} | set(range(200, 300))
DAILY_LIMIT_SUBCODE = 2207042
SPAM_SUBCODE = 2207051
# Subcodes after which a fresh container may work where the old one cannot.
CONTAINER_GONE = {2207001, 2207020}
RETRYABLE_SUBCODES = {2207003, 2207027} | CONTAINER_GONE
DEFAULT_THROTTLE_WAIT = 300.0
AS_THE_PAGE = re.compile(r"as the page itself|posted to a page as the page", re.IGNORECASE)


def regain_access_seconds(response: requests.Response) -> float | None:
    """Return the longest `estimated_time_to_regain_access` (minutes) in the BUC header."""
    header = response.headers.get("X-Business-Use-Case-Usage")
    if not header:
        return None
    try:
        usage = json.loads(header)
    except ValueError:
        return None

    minutes = [
        entry.get("estimated_time_to_regain_access") or 0
        for entries in usage.values()
        if isinstance(entries, list)
        for entry in entries
        if isinstance(entry, dict)
    ]
    return max(minutes) * 60.0 if minutes else None


def graph_error(response: requests.Response, label: str, *, creates: bool = False) -> PublishError:
    """Return the shared error for a failed Graph API response."""
    error = json_of(response).get("error")
    if not isinstance(error, dict):
        return status_error(response, label, response.reason or "error", creates=creates)

    code = error.get("code")
    subcode = error.get("error_subcode")
    text = error.get("error_user_msg") or error.get("message") or "error"
    status = response.status_code
    exc = map_graph_code(code, subcode, text, label, response, creates=creates)
    exc.http_status = status
    exc.graph_code = code
    exc.graph_subcode = subcode
    return exc


def map_graph_code(
    code: Any,
    subcode: Any,
    text: str,
    label: str,
    response: requests.Response,
    *,
    creates: bool,
) -> PublishError:
    if code in TOKEN_INVALID:
        return AuthExpired(f"{label} no longer accepts the access token: {text}")

    if code == 200 and AS_THE_PAGE.search(text):
        return ReconnectRequired(
            f"{label} needs a Page token, not a personal one: reconnect the Page ({text})"
        )

    if subcode == SPAM_SUBCODE:
        return PermanentError(f"{label} blocked the post as spam: {text}")

    if code in THROTTLED:
        wait = regain_access_seconds(response) or DEFAULT_THROTTLE_WAIT
        return RateLimited(f"{label} is throttling our calls: {text}", retry_after=wait)

    if subcode == DAILY_LIMIT_SUBCODE:
        return RateLimited(
            f"{label}'s daily publishing limit is reached",
            retry_after=settings.HAYON_QUOTA_RETRY_SECONDS,
            code="quota_exhausted",
        )

    if code in PERMISSION:
        return ReconnectRequired(f"{label} refused a permission; reconnect the account ({text})")

    if subcode in RETRYABLE_SUBCODES:
        return TransientError(f"{label} could not finish the media yet: {text}")

    if (
        response.status_code >= 500
        or code in (1, 2)
        or bool(json_of(response).get("error", {}).get("is_transient"))
    ):
        if creates:
            return Unconfirmed(f"{label} failed while publishing ({text}); checking first")
        return TransientError(f"{label} had a temporary problem: {text}")

    return PermanentError(f"{label} refused the post: {text}")


class GraphClient:
    """Calls one Graph host with one access token; returns JSON objects or raises."""

    def __init__(self, base_url: str, token: str, label: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.label = label

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        if self.token:
            params["access_token"] = self.token
        response = send("GET", self.url(path), label=self.label, params=params)
        return self._answer(response, creates=False)

    def post(self, path: str, data: dict[str, Any], *, creates: bool = False) -> dict[str, Any]:
        body = {**data, "access_token": self.token} if self.token else dict(data)
        response = send("POST", self.url(path), label=self.label, creates=creates, data=body)
        return self._answer(response, creates=creates)

    def _answer(self, response: requests.Response, *, creates: bool) -> dict[str, Any]:
        if response.status_code >= 400:
            raise graph_error(response, self.label, creates=creates)
        return json_of(response)


def host_root(base_url: str) -> str:
    """Return the API URL without its version segment (token endpoints are unversioned)."""
    return re.sub(r"/v\d+(\.\d+)?/?$", "", base_url.rstrip("/"))

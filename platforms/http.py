"""Outgoing HTTP for the platforms we call without an SDK (Meta's Graph APIs and Tumblr).

Every call goes through `send`, which applies the timeout and turns transport failures into
the shared errors: a request that surely never reached the platform is a TransientError; one
that may have reached it is Unconfirmed when it creates something (a timeout after sending
says nothing about whether the post was made) and a TransientError otherwise.

Exception texts from requests can quote the URL, query string included, so they are never
copied into a message or a log line: tokens travel in those query strings.
"""

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.conf import settings
from urllib3.exceptions import NewConnectionError

from platforms.errors import (
    AuthExpired,
    PermanentError,
    PublishError,
    RateLimited,
    TransientError,
    Unconfirmed,
)

logger = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER = 60.0


def never_sent(exc: requests.RequestException) -> bool:
    """Return True when the request surely did not reach the server (no connection made)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        reason = getattr(exc.args[0], "reason", exc.args[0])
        return isinstance(reason, NewConnectionError)
    return False


def send(
    method: str, url: str, *, label: str, creates: bool = False, **kwargs: Any
) -> requests.Response:
    """Send one request to a platform and return its response, whatever its status.

    `label` names the platform in messages; `creates` says the call publishes something, so
    a lost answer is ambiguous.
    """
    timeout = kwargs.pop("timeout", settings.HAYON_PLATFORM_TIMEOUT)
    try:
        return requests.request(method, url, timeout=timeout, **kwargs)
    except requests.RequestException as exc:
        kind = type(exc).__name__
        if never_sent(exc):
            raise TransientError(f"{label} could not be reached ({kind})") from None
        if creates:
            raise Unconfirmed(f"No answer from {label} after sending the post ({kind})") from None
        raise TransientError(f"{label} did not answer ({kind})") from None


def json_of(response: requests.Response) -> dict[str, Any]:
    """Return the response's JSON object, or {} when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {"data": body}


def retry_after(response: requests.Response, default: float = DEFAULT_RETRY_AFTER) -> float:
    """Return the wait a Retry-After header asks for (seconds or an HTTP date)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return default
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def status_error(
    response: requests.Response, label: str, message: str, *, creates: bool = False
) -> PublishError:
    """Return the shared error for a failed response that carries no platform error code."""
    status = response.status_code
    if status == 429:
        return RateLimited(
            f"{label} asked us to slow down", retry_after=retry_after(response), http_status=429
        )
    if status == 401:
        return AuthExpired(f"{label} did not accept the token: {message}", http_status=401)
    if status >= 500:
        if creates:
            return Unconfirmed(
                f"{label} answered {status} to the post; checking before trying again",
                http_status=status,
            )
        return TransientError(f"{label} answered {status}: {message}", http_status=status)
    return PermanentError(f"{label} refused the request: {message}", http_status=status)

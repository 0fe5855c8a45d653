"""Mastodon.py clients for Hayon, and the translation of its errors into the shared ones.

Every client throws on rate limits instead of sleeping (the default 'wait' would hold a worker
for up to five minutes inside one call) and goes through hayon/safe_http.py's session, because
the instance URL is whatever the person connecting typed.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from django.conf import settings
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)
from ssrfguard import SSRFGuardError

from hayon import safe_http
from platforms.errors import (
    PermanentError,
    PublishError,
    RateLimited,
    ReconnectRequired,
    TransientError,
    Unconfirmed,
)

USER_AGENT = "Hayon"
# Hayon uses nothing newer than Mastodon 4.0 (v2 media, Idempotency-Key). Telling Mastodon.py
# so spares a version lookup before calls, which on a failed lookup recurses without end.
ASSUMED_VERSION = "4.0.0"
DEFAULT_RATE_LIMIT_WAIT = 60.0


def normalize_instance_url(url: str) -> str:
    """Return the instance's base URL: https unless told otherwise, no path, no slash."""
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "https://" + url
    return url


@contextmanager
def api_for(base_url: str, access_token: str | None = None) -> Iterator[Mastodon]:
    """Yield a Mastodon.py client for one instance and close its connections afterwards."""
    session = safe_http.session()
    try:
        yield Mastodon(
            access_token=access_token,
            api_base_url=base_url,
            ratelimit_method="throw",
            request_timeout=settings.HAYON_PLATFORM_TIMEOUT,
            session=session,
            user_agent=USER_AGENT,
            mastodon_version=ASSUMED_VERSION,
            version_check_mode="created",
        )
    finally:
        session.close()


def status_of(exc: MastodonAPIError) -> int | None:
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None


def message_of(exc: MastodonError) -> str:
    """Return the instance's own words for an error when it gave any."""
    if isinstance(exc, MastodonAPIError) and len(exc.args) > 3 and exc.args[3]:
        return str(exc.args[3])
    if isinstance(exc, MastodonAPIError) and len(exc.args) > 2 and exc.args[2]:
        return str(exc.args[2])
    return type(exc).__name__


def never_sent(exc: MastodonNetworkError) -> bool:
    """Return whether a network error surely happened before the request left us."""
    cause = exc.__context__
    return isinstance(cause, SSRFGuardError | requests.ConnectTimeout) or (
        isinstance(cause, requests.ConnectionError)
        and not isinstance(cause, requests.ReadTimeout)
        and "NewConnectionError" in repr(cause)
    )


def translate(exc: MastodonError, api: Mastodon, *, ambiguous: bool) -> PublishError:
    """Return the shared error for a Mastodon.py error; `ambiguous` when a create may have landed.

    Tokens never expire and cannot be refreshed, so a 401 means reconnecting.
    """
    if isinstance(exc, MastodonRatelimitError):
        reset = getattr(api, "ratelimit_reset", None)
        wait = reset - time.time() if reset else DEFAULT_RATE_LIMIT_WAIT
        return RateLimited("Mastodon asked us to slow down", retry_after=wait, http_status=429)

    if isinstance(exc, MastodonUnauthorizedError):
        return ReconnectRequired(
            f"Mastodon no longer accepts the access token: {message_of(exc)}", http_status=401
        )

    if isinstance(exc, MastodonNetworkError):
        if isinstance(exc.__context__, SSRFGuardError):
            return PermanentError(f"Hayon does not connect to this address: {exc.__context__}")
        if ambiguous and not never_sent(exc):
            return Unconfirmed("No answer from Mastodon; asking again with the same key")
        return TransientError("Mastodon could not be reached")

    if isinstance(exc, MastodonServerError):
        status = status_of(exc)
        if ambiguous:
            return Unconfirmed(f"Mastodon answered {status}; asking again with the same key")
        return TransientError(f"Mastodon answered {status}", http_status=status)

    if isinstance(exc, MastodonAPIError):
        status = status_of(exc)
        return PermanentError(f"Mastodon refused the post: {message_of(exc)}", http_status=status)

    if isinstance(exc, MastodonIllegalArgumentError):
        return PermanentError(f"Mastodon.py refused the request: {exc}")

    return TransientError(f"Mastodon call failed: {type(exc).__name__}")

"""Tumblr's OAuth2 tokens: the code exchange and the refresh, through requests-oauthlib.

Access tokens last about 42 minutes. A refresh answers with a new access token AND a new
refresh token, and the old refresh token stops working, so both are stored in one save under
the account lock (see platforms/tokens.py and posts/publishing.py).
"""

from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from platforms.errors import RateLimited, ReconnectRequired, TransientError
from platforms.http import retry_after

SCOPES = ["basic", "write", "offline_access"]


def token_url() -> str:
    return f"{settings.HAYON_TUMBLR_API_URL.rstrip('/')}/v2/oauth2/token"


def oauth_session(**kwargs: Any) -> OAuth2Session:
    session = OAuth2Session(settings.HAYON_TUMBLR_CLIENT_ID, scope=SCOPES, **kwargs)
    for hook in ("access_token_response", "refresh_token_response"):
        session.register_compliance_hook(hook, refuse_server_errors)
    return session


def refuse_server_errors(response: requests.Response) -> requests.Response:
    """Raise our errors for answers that are not about the grant (oauthlib would misread them)."""
    if response.status_code == 429:
        raise RateLimited(
            "Tumblr asked us to slow down", retry_after=retry_after(response), http_status=429
        )
    if response.status_code >= 500:
        raise TransientError(
            f"Tumblr answered {response.status_code} to a token request",
            http_status=response.status_code,
        )
    return response


def credentials_from(token: dict[str, Any]) -> tuple[dict[str, str], datetime]:
    """Return the credentials to store for a token answer, and the access token's expiry."""
    expires_in = float(token.get("expires_in") or 2520)
    credentials = {
        "access_token": token["access_token"],
        "refresh_token": token.get("refresh_token", ""),
    }
    return credentials, timezone.now() + timedelta(seconds=expires_in)


def refresh(refresh_token: str) -> tuple[dict[str, str], datetime]:
    """Return new credentials (access and rotated refresh token); ReconnectRequired if refused."""
    if not refresh_token:
        raise ReconnectRequired("Tumblr gave no refresh token: reconnect the blog")

    try:
        token = oauth_session().refresh_token(
            token_url(),
            refresh_token=refresh_token,
            client_id=settings.HAYON_TUMBLR_CLIENT_ID,
            client_secret=settings.HAYON_TUMBLR_CLIENT_SECRET,
            timeout=settings.HAYON_PLATFORM_TIMEOUT,
        )
    except OAuth2Error as exc:
        raise ReconnectRequired(f"Tumblr refused to renew the token ({exc.error})") from None
    except requests.RequestException as exc:
        raise TransientError(f"Tumblr could not be reached ({type(exc).__name__})") from None

    return credentials_from(token)

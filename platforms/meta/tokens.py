"""Meta's long-lived user tokens: exchanging a short-lived one and renewing it.

Instagram (Instagram Login) and Threads tokens live 60 days and can be renewed once they are
a day old; Facebook user tokens are only exchanged, and the Page tokens read with them do
not expire. The endpoints are unversioned, so they hang off the host root.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from platforms.errors import AuthExpired, PermanentError, ReconnectRequired
from platforms.meta.graph import GraphClient, host_root

# Meta documents 60 days; used when an answer leaves out expires_in.
LONG_LIVED = timedelta(days=60)


def expiry(answer: dict) -> datetime:
    """Return when a token from this answer expires."""
    seconds = answer.get("expires_in")
    if isinstance(seconds, int | float) and seconds > 0:
        return timezone.now() + timedelta(seconds=seconds)
    return timezone.now() + LONG_LIVED


def renew(base_url: str, grant_type: str, token: str, label: str) -> tuple[str, datetime]:
    """Return a renewed long-lived token and its expiry; ReconnectRequired when refused."""
    client = GraphClient(host_root(base_url), token, label)
    try:
        answer = client.get("refresh_access_token", grant_type=grant_type)
    except (AuthExpired, PermanentError, ReconnectRequired) as exc:
        raise ReconnectRequired(f"{label} refused to renew the token: {exc.message}") from exc

    return answer["access_token"], expiry(answer)


def exchange(
    base_url: str, grant_type: str, token: str, app_secret: str, label: str
) -> tuple[str, datetime]:
    """Return the long-lived token for a short-lived one (Instagram and Threads logins)."""
    client = GraphClient(host_root(base_url), token, label)
    answer = client.get("access_token", grant_type=grant_type, client_secret=app_secret)
    return answer["access_token"], expiry(answer)


def exchange_facebook_user_token(token: str) -> str:
    """Return the long-lived Facebook user token for a short-lived one.

    Page tokens read with a long-lived user token never expire, which is why we exchange.
    """
    client = GraphClient(settings.HAYON_GRAPH_API_URL, "", "Facebook")
    answer = client.get(
        "oauth/access_token",
        grant_type="fb_exchange_token",
        client_id=settings.HAYON_META_APP_ID,
        client_secret=settings.HAYON_META_APP_SECRET,
        fb_exchange_token=token,
    )
    return answer["access_token"]

"""Instagram Login (the Instagram API with Instagram Login, no Facebook Page needed).

start/ sends the person to Instagram's consent screen; callback/ exchanges the code for a
short-lived token (api.instagram.com), trades it for a 60-day one (graph.instagram.com,
`ig_exchange_token`) and connects the professional account. Token upkeep (platforms/tokens.py)
renews the token before it expires. Instagram accounts linked to a Facebook Page can also be
connected through Facebook Login (platforms/facebook/oauth.py).
"""

import json
import logging
from datetime import timedelta

import requests
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from platforms.errors import PublishError
from platforms.instagram.connect import profile_fields
from platforms.meta import tokens as meta_tokens
from platforms.oauth import Flow
from platforms.services import save_account

logger = logging.getLogger(__name__)

# Instagram documents its scopes comma-separated.
SCOPE = "instagram_business_basic,instagram_business_content_publish"


def is_configured() -> bool:
    """Return whether this server has an Instagram Login app to send people to."""
    return bool(settings.HAYON_INSTAGRAM_APP_ID and settings.HAYON_INSTAGRAM_APP_SECRET)


FLOW = Flow("instagram", "Instagram", redirect_setting="HAYON_INSTAGRAM_REDIRECT_URL")


def plain_token_answer(response: requests.Response) -> requests.Response:
    """Reshape api.instagram.com's token answer into the OAuth 2 shape oauthlib reads.

    Business Login documents the token inside a one-element `data` list, while the older
    answer is flat; a refusal comes as `error_type` and `error_message` instead of OAuth's
    `error` and `error_description`.
    """
    try:
        body = response.json()
    except ValueError:
        return response
    if not isinstance(body, dict):
        return response

    rows = body.get("data")
    if isinstance(rows, list) and rows and isinstance(rows[0], dict):
        body = rows[0]
    if "error_message" in body and "error" not in body:
        body = {
            "error": body.get("error_type") or "invalid_grant",
            "error_description": body["error_message"],
        }

    response._content = json.dumps(body).encode()
    return response


def token_session(request: HttpRequest, **kwargs) -> OAuth2Session:
    session = FLOW.session(request, settings.HAYON_INSTAGRAM_APP_ID, **kwargs)
    session.register_compliance_hook("access_token_response", plain_token_answer)
    return session


@login_required
def start(request: HttpRequest) -> HttpResponse:
    if not is_configured():
        return FLOW.failed(
            request,
            "Instagram Login is not set up on this server. Connect Instagram through "
            "Facebook instead: the account must be linked to a Facebook Page you manage.",
            retry_url=reverse("connect:facebook:start"),
        )

    session = token_session(request, scope=SCOPE)
    return FLOW.start(request, session, settings.HAYON_INSTAGRAM_AUTHORIZE_URL)


@FLOW.callback
def callback(request: HttpRequest) -> HttpResponse:
    try:
        fields = connect_with_code(request)
    except OAuth2Error as exc:
        logger.warning("instagram login refused user=%s: %s", request.user.pk, exc.error)
        detail = f" ({exc.description})" if exc.description else ""
        return FLOW.failed(
            request,
            f"Instagram did not accept this sign-in{detail}. Sign-in links work once and "
            "expire quickly: please try again.",
        )
    except (PublishError, requests.RequestException) as exc:
        logger.warning("instagram login failed user=%s: %s", request.user.pk, type(exc).__name__)
        return FLOW.failed(
            request, "Instagram did not let us connect your account. Please try again."
        )

    account, _ = save_account(request.user, "instagram", fields)
    return render(request, "connect/done.html", {"accounts": [account]})


def connect_with_code(request: HttpRequest) -> dict:
    """Trade the code for a 60-day token; return the fields of the account it belongs to."""
    answer = FLOW.fetch_token(
        request,
        token_session(request),
        settings.HAYON_INSTAGRAM_TOKEN_URL,
        settings.HAYON_INSTAGRAM_APP_SECRET,
    )

    token, expires_at = meta_tokens.exchange(
        settings.HAYON_INSTAGRAM_API_URL,
        "ig_exchange_token",
        answer["access_token"],
        settings.HAYON_INSTAGRAM_APP_SECRET,
        "Instagram",
    )

    # The code answer's user_id is scoped to our app; /me tells the professional account's.
    left = max(timedelta(seconds=1), expires_at - timezone.now())
    return profile_fields(token, expires_in=int(left.total_seconds()))


urlpatterns = [
    path("start/", start, name="start"),
    path("callback/", callback, name="callback"),
]

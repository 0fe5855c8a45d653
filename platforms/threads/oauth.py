"""Threads login: start/ sends the person to Threads' consent screen; callback/ exchanges the
code for a short-lived token, trades it for a 60-day one and connects the profile."""

import logging
from datetime import timedelta

import requests
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session

from platforms import tokens
from platforms.errors import PublishError
from platforms.meta import tokens as meta_tokens
from platforms.meta.graph import host_root
from platforms.services import save_account
from platforms.threads.connect import profile_fields

logger = logging.getLogger(__name__)

# Threads documents its scopes comma-separated.
SCOPE = "threads_basic,threads_content_publish"


def redirect_uri(request: HttpRequest) -> str:
    return settings.HAYON_THREADS_REDIRECT_URL or request.build_absolute_uri(
        reverse("connect:threads:callback")
    )


def failed(request: HttpRequest, message: str) -> HttpResponse:
    context = {
        "platform": "Threads",
        "message": message,
        "retry_url": reverse("connect:threads:start"),
    }
    return render(request, "connect/error.html", context, status=400)


@login_required
def start(request: HttpRequest) -> HttpResponse:
    session = OAuth2Session(
        settings.HAYON_THREADS_APP_ID, redirect_uri=redirect_uri(request), scope=SCOPE
    )
    url, state = session.authorization_url(settings.HAYON_THREADS_AUTHORIZE_URL)
    tokens.remember_state(request.session, "threads", state)
    return redirect(url)


@login_required
def callback(request: HttpRequest) -> HttpResponse:
    if not tokens.state_matches(request.session, "threads", request.GET.get("state")):
        return failed(request, "This answer from Threads does not match a connection we began.")
    if "code" not in request.GET:
        return failed(request, request.GET.get("error_description") or "Threads refused access.")

    api = settings.HAYON_THREADS_API_URL
    try:
        answer = OAuth2Session(
            settings.HAYON_THREADS_APP_ID, redirect_uri=redirect_uri(request)
        ).fetch_token(
            f"{host_root(api)}/oauth/access_token",
            code=request.GET["code"],
            client_secret=settings.HAYON_THREADS_APP_SECRET,
            include_client_id=True,
            timeout=settings.HAYON_PLATFORM_TIMEOUT,
        )
        token, expires_at = meta_tokens.exchange(
            api,
            "th_exchange_token",
            answer["access_token"],
            settings.HAYON_THREADS_APP_SECRET,
            "Threads",
        )
        left = max(timedelta(seconds=1), expires_at - timezone.now())
        fields = profile_fields(token, str(answer.get("user_id") or ""), int(left.total_seconds()))
    except (OAuth2Error, PublishError, requests.RequestException) as exc:
        logger.warning("threads login failed user=%s: %s", request.user.pk, type(exc).__name__)
        return failed(request, "Threads did not let us connect your profile. Please try again.")

    account, _ = save_account(request.user, "threads", fields)
    return render(request, "connect/done.html", {"accounts": [account]})


urlpatterns = [
    path("start/", start, name="start"),
    path("callback/", callback, name="callback"),
]

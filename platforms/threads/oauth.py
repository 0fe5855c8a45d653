"""Threads login: start/ sends the person to Threads' consent screen; callback/ exchanges the
code for a short-lived token, trades it for a 60-day one and connects the profile."""

import logging
from datetime import timedelta

import requests
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from oauthlib.oauth2 import OAuth2Error

from platforms.errors import PublishError
from platforms.meta import tokens as meta_tokens
from platforms.meta.graph import host_root
from platforms.oauth import Flow
from platforms.services import save_account
from platforms.threads.connect import profile_fields

logger = logging.getLogger(__name__)

# Threads documents its scopes comma-separated.
SCOPE = "threads_basic,threads_content_publish"

FLOW = Flow(
    "threads",
    "Threads",
    redirect_setting="HAYON_THREADS_REDIRECT_URL",
    refused="Threads refused access.",
)


@login_required
def start(request: HttpRequest) -> HttpResponse:
    session = FLOW.session(request, settings.HAYON_THREADS_APP_ID, scope=SCOPE)
    return FLOW.start(request, session, settings.HAYON_THREADS_AUTHORIZE_URL)


@FLOW.callback
def callback(request: HttpRequest) -> HttpResponse:
    api = settings.HAYON_THREADS_API_URL
    try:
        answer = FLOW.fetch_token(
            request,
            FLOW.session(request, settings.HAYON_THREADS_APP_ID),
            f"{host_root(api)}/oauth/access_token",
            settings.HAYON_THREADS_APP_SECRET,
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
        return FLOW.failed(
            request, "Threads did not let us connect your profile. Please try again."
        )

    account, _ = save_account(request.user, "threads", fields)
    return render(request, "connect/done.html", {"accounts": [account]})


urlpatterns = [
    path("start/", start, name="start"),
    path("callback/", callback, name="callback"),
]

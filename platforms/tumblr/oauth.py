"""Tumblr OAuth2 (code flow with offline_access): start/, callback/, then choose/ a blog.

One connection holds one blog: Tumblr's refresh token rotates on every use, so two accounts
sharing it would spend it for each other. To connect another blog, run the flow again.
"""

import logging
from datetime import datetime

import requests
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from oauthlib.oauth2 import OAuth2Error

from platforms.errors import PublishError
from platforms.oauth import Flow, forget_choice, keep_for_choice, pending_choice
from platforms.services import save_account
from platforms.tumblr import auth
from platforms.tumblr.connect import blog_fields, user_blogs

logger = logging.getLogger(__name__)


FLOW = Flow(
    "tumblr",
    "Tumblr",
    redirect_setting="HAYON_TUMBLR_REDIRECT_URL",
    refused="Tumblr refused access.",
)


@login_required
def start(request: HttpRequest) -> HttpResponse:
    session = auth.oauth_session(redirect_uri=FLOW.redirect_uri(request))
    return FLOW.start(request, session, settings.HAYON_TUMBLR_AUTHORIZE_URL)


@FLOW.callback
def callback(request: HttpRequest) -> HttpResponse:
    try:
        answer = FLOW.fetch_token(
            request,
            auth.oauth_session(redirect_uri=FLOW.redirect_uri(request)),
            auth.token_url(),
            settings.HAYON_TUMBLR_CLIENT_SECRET,
        )
        credentials, expires_at = auth.credentials_from(answer)
        blogs = user_blogs(credentials["access_token"])
    except (OAuth2Error, PublishError, requests.RequestException) as exc:
        logger.warning("tumblr login failed user=%s: %s", request.user.pk, type(exc).__name__)
        return FLOW.failed(request, "Tumblr did not let us read your blogs. Please try again.")

    pending = {"credentials": credentials, "expires_at": expires_at.isoformat(), "blogs": blogs}
    keep_for_choice(request.session, "tumblr", pending)
    return redirect("connect:tumblr:choose")


@login_required
def choose(request: HttpRequest) -> HttpResponse:
    pending = pending_choice(request.session, "tumblr")
    if pending is None:
        return redirect("connect:tumblr:start")
    blogs = pending["blogs"]

    if request.method != "POST":
        context = {
            "title": "Choose a blog",
            "intro": "Hayon will post to the blog you choose.",
            "legend": "Your Tumblr blogs",
            "empty": "This Tumblr account has no blog.",
            "input_type": "radio",
            "options": [
                {
                    "value": blog["name"],
                    "label": f"{blog.get('title') or blog['name']} "
                    f"({blog.get('url') or blog['name']})",
                }
                for blog in blogs
            ],
        }
        return render(request, "connect/choose.html", context)

    chosen = request.POST.get("choice")
    blog = next((b for b in blogs if b["name"] == chosen), None)
    if blog is None:
        return FLOW.failed(request, "Choose one of your blogs.")

    expires_at = datetime.fromisoformat(pending["expires_at"])
    left = (expires_at - timezone.now()).total_seconds()
    account, _ = save_account(
        request.user, "tumblr", blog_fields(blog, pending["credentials"], max(left, 1))
    )
    forget_choice(request.session, "tumblr")
    return render(request, "connect/done.html", {"accounts": [account]})


urlpatterns = [
    path("start/", start, name="start"),
    path("callback/", callback, name="callback"),
    path("choose/", choose, name="choose"),
]

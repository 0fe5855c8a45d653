"""Facebook Login: connect Facebook Pages and the Instagram accounts linked to them.

start/ sends the person to Meta's dialog; callback/ exchanges the code for a user token,
makes it long-lived and lists the person's Pages; choose/ lets them tick the Pages and
Instagram professional accounts to connect. Only Page tokens are stored: they do not expire,
and a personal token cannot post as a Page.
"""

import logging

import requests
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from oauthlib.oauth2 import OAuth2Error

from platforms.errors import PublishError
from platforms.meta.pages import Page, instagram_fields, list_pages, page_fields
from platforms.meta.tokens import exchange_facebook_user_token
from platforms.oauth import Flow, forget_choice, keep_for_choice, pending_choice
from platforms.services import save_account

logger = logging.getLogger(__name__)

SCOPES = [
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_posts",
    "business_management",
    "instagram_basic",
    "instagram_content_publish",
]

FLOW = Flow("facebook", "Facebook", redirect_setting="HAYON_META_REDIRECT_URL")


@login_required
def start(request: HttpRequest) -> HttpResponse:
    session = FLOW.session(request, settings.HAYON_META_APP_ID, scope=SCOPES)
    return FLOW.start(request, session, settings.HAYON_META_DIALOG_URL)


@FLOW.callback
def callback(request: HttpRequest) -> HttpResponse:
    try:
        answer = FLOW.fetch_token(
            request,
            FLOW.session(request, settings.HAYON_META_APP_ID),
            f"{settings.HAYON_GRAPH_API_URL.rstrip('/')}/oauth/access_token",
            settings.HAYON_META_APP_SECRET,
            method="GET",
        )
        user_token = exchange_facebook_user_token(answer["access_token"])
        pages = list_pages(user_token)
    except (OAuth2Error, PublishError, requests.RequestException) as exc:
        logger.warning("facebook login failed user=%s: %s", request.user.pk, type(exc).__name__)
        return FLOW.failed(request, "Facebook did not let us read your Pages. Please try again.")

    keep_for_choice(request.session, "facebook", {"pages": [p.as_dict() for p in pages]})
    return redirect("connect:facebook:choose")


def options(pages: list[Page]) -> list[dict[str, str]]:
    found = []
    for page in pages:
        found.append({"value": f"facebook:{page.id}", "label": f"Facebook Page {page.name}"})
        if page.instagram_id:
            found.append(
                {
                    "value": f"instagram:{page.instagram_id}",
                    "label": f"Instagram @{page.instagram_username} (linked to {page.name})",
                }
            )
    return found


@login_required
def choose(request: HttpRequest) -> HttpResponse:
    pending = pending_choice(request.session, "facebook")
    if pending is None:
        return redirect("connect:facebook:start")
    pages = [Page(**row) for row in pending["pages"]]

    if request.method != "POST":
        context = {
            "title": "Choose what to connect",
            "intro": "Hayon will post as each Page and Instagram account you tick.",
            "legend": "Your Facebook Pages and their Instagram accounts",
            "empty": "You manage no Facebook Page, or did not share any with Hayon.",
            "input_type": "checkbox",
            "options": options(pages),
        }
        return render(request, "connect/choose.html", context)

    chosen = set(request.POST.getlist("choice"))
    connected = []
    for page in pages:
        if f"facebook:{page.id}" in chosen:
            connected.append(save_account(request.user, "facebook", page_fields(page))[0])
        if page.instagram_id and f"instagram:{page.instagram_id}" in chosen:
            connected.append(save_account(request.user, "instagram", instagram_fields(page))[0])

    forget_choice(request.session, "facebook")
    return render(request, "connect/done.html", {"accounts": connected})


urlpatterns = [
    path("start/", start, name="start"),
    path("callback/", callback, name="callback"),
    path("choose/", choose, name="choose"),
]

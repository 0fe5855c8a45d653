"""Connecting a Mastodon account through OAuth, for people (API clients may send a token).

`start/` takes the instance (POST from the accounts page, or `?instance=`), registers Hayon on
that instance the first time (stored as a MastodonApp) and sends the person to the instance's
authorization page. `callback/` exchanges the code for a token, verifies it and stores the
account exactly as POST /api/accounts/mastodon/ does.
"""

import logging
import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods
from mastodon import Mastodon
from mastodon.errors import MastodonError

from hayon import safe_http
from platforms.errors import PublishError
from platforms.mastodon.client import ASSUMED_VERSION, USER_AGENT, normalize_instance_url
from platforms.models import MastodonApp
from platforms.oauth import claim_state, remember_state
from platforms.registry import get_publisher
from platforms.services import save_account

logger = logging.getLogger(__name__)

SCOPES = ["write:statuses", "write:media", "read:accounts"]


def redirect_uri() -> str:
    return settings.HAYON_PUBLIC_URL + reverse("connect:mastodon:callback")


def app_for(base_url: str) -> MastodonApp:
    """Return Hayon's OAuth client on the instance, registering it the first time."""
    uri = redirect_uri()
    known = MastodonApp.objects.filter(base_url=base_url, redirect_uri=uri).first()
    if known:
        return known

    with safe_http.session() as session:
        client_id, client_secret = Mastodon.create_app(
            "Hayon",
            scopes=SCOPES,
            redirect_uris=uri,
            website=settings.HAYON_PUBLIC_URL,
            api_base_url=base_url,
            request_timeout=settings.HAYON_PLATFORM_TIMEOUT,
            session=session,
            user_agent=USER_AGENT,
        )
    try:
        app = MastodonApp.objects.create(
            base_url=base_url,
            redirect_uri=uri,
            client_id=client_id,
            secrets={"client_secret": client_secret},
        )
    except IntegrityError:
        # Two people connected to the same new instance at once; keep the first registration.
        return MastodonApp.objects.get(base_url=base_url, redirect_uri=uri)

    logger.info("mastodon app registered instance=%s app=%s", base_url, app.pk)
    return app


def api_with(app: MastodonApp, session) -> Mastodon:
    return Mastodon(
        client_id=app.client_id,
        client_secret=app.secrets.get("client_secret"),
        api_base_url=app.base_url,
        ratelimit_method="throw",
        request_timeout=settings.HAYON_PLATFORM_TIMEOUT,
        session=session,
        user_agent=USER_AGENT,
        mastodon_version=ASSUMED_VERSION,
        version_check_mode="created",
    )


@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    instance = request.POST.get("instance") or request.GET.get("instance") or ""
    if not instance.strip():
        return HttpResponseBadRequest(
            "Say which Mastodon instance, e.g. ?instance=mastodon.social"
        )
    base_url = normalize_instance_url(instance)

    state = secrets.token_urlsafe(24)
    try:
        app = app_for(base_url)
        with safe_http.session() as session:
            url = api_with(app, session).auth_request_url(
                redirect_uris=redirect_uri(),
                scopes=SCOPES,
                state=state,
                allow_http=settings.HAYON_FETCH_ALLOW_PRIVATE,
            )
    except MastodonError as exc:
        logger.warning("mastodon oauth start failed instance=%s: %s", base_url, type(exc).__name__)
        messages.error(request, f"Could not reach {base_url} as a Mastodon instance.")
        return redirect("accounts:list")

    remember_state(request.session, "mastodon", state, app=app.pk)
    return redirect(url)


@login_required
def callback(request: HttpRequest) -> HttpResponse:
    pending = claim_state(request.session, "mastodon", request.GET.get("state"))
    if pending is None:
        return HttpResponseBadRequest("This sign-in link is stale; connect the account again.")
    if "code" not in request.GET:
        messages.error(request, "Mastodon did not grant access.")
        return redirect("accounts:list")

    app = MastodonApp.objects.get(pk=pending["app"])
    try:
        with safe_http.session() as session:
            token = api_with(app, session).log_in(
                code=request.GET["code"],
                redirect_uri=redirect_uri(),
                scopes=SCOPES,
                allow_http=settings.HAYON_FETCH_ALLOW_PRIVATE,
            )
        fields = get_publisher("mastodon").connect(app.base_url, token)
    except (MastodonError, PublishError) as exc:
        logger.warning("mastodon oauth callback failed instance=%s app=%s", app.base_url, app.pk)
        messages.error(request, f"Could not connect the account: {getattr(exc, 'message', exc)}")
        return redirect("accounts:list")

    account, _ = save_account(request.user, "mastodon", fields)
    messages.success(request, f"Connected {account}.")
    return redirect("accounts:list")


urlpatterns = [
    path("start/", start, name="start"),
    path("callback/", callback, name="callback"),
]

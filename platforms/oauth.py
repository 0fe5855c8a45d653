"""The steps every browser OAuth flow shares (platforms/<platform>/oauth.py).

A flow sends the person to the provider with a state remembered in their session, checks on
the way back that the answer carries that state and a code, trades the code for a token
through requests-oauthlib, and explains a failure on one error page. Between the callback and
the person's choice of Pages or blogs, the tokens wait in the session, encrypted like stored
credentials (sessions live in the database).
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from requests_oauthlib import OAuth2Session

from platforms.crypto import decrypt_json, encrypt_json

STATE_KEY = "hayon.oauth.{}.state"
CHOICE_KEY = "hayon.oauth.{}.choice"

View = Callable[[HttpRequest], HttpResponse]


@dataclass(frozen=True)
class Flow:
    """One platform's flow: `platform` names its URLs (connect:<platform>:...) and session
    keys, `label` is the name a person reads, `redirect_setting` the setting that may pin the
    callback URL (as registered with the provider, or behind a proxy), `refused` what to say
    when the provider sends no code and no reason."""

    platform: str
    label: str
    redirect_setting: str
    refused: str = ""

    def redirect_uri(self, request: HttpRequest) -> str:
        return getattr(settings, self.redirect_setting) or request.build_absolute_uri(
            reverse(f"connect:{self.platform}:callback")
        )

    def session(self, request: HttpRequest, client_id: str, **kwargs: Any) -> OAuth2Session:
        return OAuth2Session(client_id, redirect_uri=self.redirect_uri(request), **kwargs)

    def failed(self, request: HttpRequest, message: str, retry_url: str = "") -> HttpResponse:
        context = {
            "platform": self.label,
            "message": message,
            "retry_url": retry_url or reverse(f"connect:{self.platform}:start"),
        }
        return render(request, "connect/error.html", context, status=400)

    def start(
        self, request: HttpRequest, session: OAuth2Session, authorize_url: str
    ) -> HttpResponse:
        """Send the person to the provider, remembering the state the answer must carry."""
        url, state = session.authorization_url(authorize_url)
        remember_state(request.session, self.platform, state)
        return redirect(url)

    def callback(self, view: View) -> View:
        """Make `view` this flow's callback: for a signed-in person, and reached only with a
        code answering a state this browser was sent off with."""

        @login_required
        @wraps(view)
        def checked(request: HttpRequest) -> HttpResponse:
            refusal = self.refusal(request)
            return view(request) if refusal is None else refusal

        return checked

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        """Return the error page when the callback cannot go on: a state this browser was not
        sent off with, or no code (the person or the provider declined)."""
        if claim_state(request.session, self.platform, request.GET.get("state")) is None:
            return self.failed(
                request, f"This answer from {self.label} does not match a connection we began."
            )
        if "code" not in request.GET:
            reason = request.GET.get("error_description") or self.refused
            return self.failed(request, reason or f"{self.label} did not grant access.")
        return None

    def fetch_token(
        self,
        request: HttpRequest,
        session: OAuth2Session,
        token_url: str,
        client_secret: str,
        method: str = "POST",
    ) -> dict[str, Any]:
        """Trade the callback's code for a token; the client id and secret go along with the
        code, as Meta and Tumblr document."""
        return session.fetch_token(
            token_url,
            code=request.GET["code"],
            client_secret=client_secret,
            include_client_id=True,
            method=method,
            timeout=settings.HAYON_PLATFORM_TIMEOUT,
        )


def remember_state(session: SessionBase, platform: str, state: str, **carried: Any) -> None:
    """Keep the state a flow was sent off with, and what its callback will need again."""
    session[STATE_KEY.format(platform)] = {"state": state, **carried}


def claim_state(session: SessionBase, platform: str, state: str | None) -> dict | None:
    """Return what was kept with the callback's state when it is the one this browser was sent
    off with, else None. A state answers once: it leaves the session either way."""
    kept = session.pop(STATE_KEY.format(platform), None)
    if not isinstance(kept, dict) or not state:
        return None
    if not secrets.compare_digest(kept["state"].encode(), state.encode()):
        return None
    return kept


def keep_for_choice(session: SessionBase, platform: str, payload: dict) -> None:
    session[CHOICE_KEY.format(platform)] = encrypt_json(payload)


def pending_choice(session: SessionBase, platform: str) -> dict | None:
    sealed = session.get(CHOICE_KEY.format(platform))
    return decrypt_json(sealed) if sealed else None


def forget_choice(session: SessionBase, platform: str) -> None:
    session.pop(CHOICE_KEY.format(platform), None)

"""The accounts pages: what is connected and how healthy it is, connect, re-check, disconnect.

Platforms with an OAuth flow (a `platforms/<platform>/oauth.py`, mounted under
/accounts/connect/<platform>/) get a button that starts it; Bluesky, which works with an app
password, gets a form here. Instagram has two: Instagram Login when its app is configured,
else Facebook Login; an account is reconnected through the one it came with. All end in
platforms.services, like the API.
"""

import logging
from dataclasses import dataclass
from importlib.util import find_spec
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from hayon.errors import HayonError
from platforms import services
from platforms.instagram import oauth as instagram_oauth
from platforms.models import Account, AccountHealth
from platforms.names import Platform

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectOption:
    platform: str
    label: str
    url: str


def connect_url(platform: str, handle: str = "") -> str:
    """Return where a person connects (or reconnects) an account; '' when the page has none."""
    if platform == Platform.BLUESKY:
        url = reverse("accounts:bluesky")
        return f"{url}?{urlencode({'handle': handle})}" if handle else url
    if platform == Platform.INSTAGRAM:
        # Instagram Login needs an app of its own; without one, Facebook Login lists the
        # Instagram professional accounts linked to the person's Pages.
        flow = "instagram" if instagram_oauth.is_configured() else "facebook"
        return reverse(f"connect:{flow}:start")
    if find_spec(f"platforms.{platform}.oauth") is not None:
        return f"/accounts/connect/{platform}/start/"
    return ""


def reconnect_option(account: Account) -> ConnectOption:
    """Return where a person reconnects this account: the flow it was connected with."""
    url = connect_url(account.platform, account.handle)
    if account.platform == Platform.INSTAGRAM and account.credentials.get("login") == "facebook":
        url = reverse("connect:facebook:start")
    # An Instagram Login account on a server without an Instagram Login app also lands on
    # Facebook Login, which finds it when it is linked to one of the person's Pages.
    label = f"Reconnect {account.handle}{via(account.platform, url)}"
    return ConnectOption(account.platform, label, url)


def connect_options() -> list[ConnectOption]:
    options = []
    for platform in Platform:
        url = connect_url(platform.value)
        options.append(ConnectOption(platform.value, platform.label + via(platform, url), url))
    return options


def via(platform: str, url: str) -> str:
    """Return how a button names a flow that is not its platform's own ('' when it is)."""
    if platform != Platform.FACEBOOK and url == reverse("connect:facebook:start"):
        return " through Facebook"
    return ""


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = [
        (account, reconnect_option(account))
        for account in Account.objects.owned_by(request.user).exclude(health=AccountHealth.REVOKED)
    ]
    return render(
        request,
        "accounts/list.html",
        {
            "accounts": accounts,
            "needs_reconnect": [a for a, _ in accounts if not a.is_usable],
            "options": connect_options(),
        },
    )


class BlueskyConnectForm(forms.Form):
    handle = forms.CharField(
        max_length=253,
        help_text="Your handle, for example alice.bsky.social.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
    )
    app_password = forms.CharField(
        label="App password",
        max_length=255,
        help_text="Create one in Bluesky under Settings → Privacy and security → App "
        "passwords. Never use your account password here.",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    service_url = forms.URLField(
        label="Server (PDS) address",
        required=False,
        assume_scheme="https",
        help_text="Leave empty for accounts hosted by Bluesky; fill in if you run your own "
        "server.",
    )


@login_required
def connect_bluesky(request: HttpRequest) -> HttpResponse:
    form = BlueskyConnectForm(
        request.POST or None, initial={"handle": request.GET.get("handle", "")}
    )
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v}
        try:
            account, created = services.connect_account(request.user, Platform.BLUESKY, data)
        except HayonError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            verb = "connected" if created else "reconnected"
            messages.success(request, f"{account} is {verb}.")
            return redirect("accounts:list")

    return render(request, "accounts/connect_bluesky.html", {"form": form})


@login_required
@require_POST
def check_account(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(Account.objects.owned_by(request.user), pk=pk)
    account = services.check_account(account)

    if account.is_usable and not account.last_error:
        messages.success(request, f"{account} works.")
    elif account.is_usable:
        messages.warning(request, f"{account} could not be checked: {account.last_error}")
    else:
        messages.error(request, f"{account} needs reconnecting: {account.health_reason}")
    return redirect("accounts:list")


@login_required
def disconnect_account(request: HttpRequest, pk: int) -> HttpResponse:
    account = get_object_or_404(
        Account.objects.owned_by(request.user).exclude(health=AccountHealth.REVOKED), pk=pk
    )
    if request.method != "POST":
        return render(request, "accounts/disconnect.html", {"account": account})

    try:
        services.disconnect_account(account)
    except HayonError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{account} is disconnected.")
    return redirect("accounts:list")


# Mounted under /accounts/ with the namespace "accounts" in hayon/urls.py.
urlpatterns = [
    path("", account_list, name="list"),
    path("bluesky/", connect_bluesky, name="bluesky"),
    path("<int:pk>/check/", check_account, name="check"),
    path("<int:pk>/disconnect/", disconnect_account, name="disconnect"),
]

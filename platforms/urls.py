"""Browser flows for connecting accounts (OAuth redirects), one module per platform.

A platform package may hold `oauth.py` with `urlpatterns`; they are mounted under
`/accounts/connect/<platform>/` (for example `/accounts/connect/mastodon/start/` and
`/accounts/connect/mastodon/callback/`).
"""

from importlib import import_module

from django.urls import include, path

from platforms.names import Platform

app_name = "connect"


def _oauth_patterns() -> list:
    patterns = []
    for platform in Platform.values:
        try:
            module = import_module(f"platforms.{platform}.oauth")
        except ModuleNotFoundError:
            continue
        patterns.append(path(f"{platform}/", include((module.urlpatterns, platform))))
    return patterns


urlpatterns = _oauth_patterns()

"""Request limits per user, per token and per address for the login endpoint.

Rates come from HAYON_THROTTLE_RATES and are read on every request, so they can be changed
in settings (and in tests) without re-importing anything. Over the limit the API answers 429
with a Retry-After header (set by DRF, shaped by hayon/api_errors.py).
"""

from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from hayon.tokens.models import ApiToken


class SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return settings.HAYON_THROTTLE_RATES.get(self.scope)


class UserThrottle(SettingsRateThrottle):
    """Every request of one user, whatever the session or token it comes with."""

    scope = "user"

    def get_cache_key(self, request: Request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class TokenThrottle(SettingsRateThrottle):
    """Every request made with one token, so one busy client cannot starve the others."""

    scope = "token"

    def get_cache_key(self, request: Request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"named-{request.auth.pk}"
        elif isinstance(request.auth, Token):
            # A user has one legacy key: the user id names it without putting it in the cache.
            ident = f"legacy-{request.auth.user_id}"
        else:
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginThrottle(SettingsRateThrottle):
    """Password attempts on POST /api/auth/token/, per client address."""

    scope = "login"

    def get_cache_key(self, request: Request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

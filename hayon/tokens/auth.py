"""`Authorization: Token <key>` for both kinds of key.

The single key of POST /api/auth/token/ (DRF's authtoken) keeps working exactly as before;
named keys from /api/tokens/ start with KEY_PREFIX and are looked up by their digest.
"""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from hayon.tokens.models import KEY_PREFIX, ApiToken, digest


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str):
        if not key.startswith(KEY_PREFIX):
            return super().authenticate_credentials(key)

        token = ApiToken.objects.select_related("user").filter(digest=digest(key)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.expires_at and token.expires_at <= timezone.now():
            raise exceptions.AuthenticationFailed(_("Token has expired."))

        token.touch()
        return token.user, token

"""Encryption at rest for account credentials.

Credentials are a JSON object encrypted with Fernet (AES-128-CBC + HMAC-SHA256) from the
`cryptography` package. `HAYON_CREDENTIALS_KEYS` lists Fernet keys: the first encrypts, every
one decrypts, so a key can be rotated by putting a new one in front and running
`manage.py rotate_credentials_key`. In development, with no key set, one is derived from
SECRET_KEY so a fresh clone runs; production refuses to start without a key.
"""

import base64
import hashlib
import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.HAYON_CREDENTIALS_KEYS)
    if not keys:
        digest = hashlib.sha256(("hayon-credentials:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]

    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "HAYON_CREDENTIALS_KEYS must be Fernet keys (32 url-safe base64-encoded bytes)"
        ) from exc


def encrypt_json(value: dict[str, Any]) -> str:
    """Return the Fernet token of a JSON-serialisable dict."""
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict[str, Any]:
    """Return the dict sealed in a Fernet token made by encrypt_json."""
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "Stored credentials cannot be decrypted with HAYON_CREDENTIALS_KEYS: "
            "was a key removed?"
        ) from exc


def rotate_token(token: str) -> str:
    """Return the token re-encrypted with the first (newest) key."""
    return _fernet().rotate(token.encode()).decode()


class EncryptedJSONField(models.TextField):
    """A dict stored as a Fernet token; the plaintext never reaches the database."""

    description = "JSON encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return {}
        return decrypt_json(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, dict):
            return value
        if not value:
            return {}
        return decrypt_json(value)

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            value = {}
        return encrypt_json(value)

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# Every named key starts with this, so the authentication class can tell it from the single
# legacy key of POST /api/auth/token/ (40 hex characters) without a database lookup.
KEY_PREFIX = "hyn_"
# How many characters of a key are kept in clear, so a person can recognise it in a list.
SHOWN_PREFIX_LENGTH = len(KEY_PREFIX) + 6
# last_used_at is a hint for people, not an audit trail: write it at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(key: str) -> str:
    """Return the stored form of a key.

    A plain SHA-256 is enough: the key holds 256 random bits, so there is nothing to guess
    that a slow password hash would protect.
    """
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(models.QuerySet):
    def owned_by(self, user) -> "ApiTokenQuerySet":
        return self.filter(user=user)

    def live(self) -> "ApiTokenQuerySet":
        now = timezone.now()
        return self.filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiToken(models.Model):
    """One named key of one user. The key itself is shown once, at creation, and never stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the key is for, e.g. 'backup script'.")
    prefix = models.CharField(
        max_length=SHOWN_PREFIX_LENGTH, help_text="The first characters of the key."
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="After this the key no longer works; empty: never."
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user, name: str, expires_at=None) -> tuple["ApiToken", str]:
        """Create a token and return it with its key, which is not kept anywhere else."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            prefix=key[:SHOWN_PREFIX_LENGTH],
            digest=digest(key),
            expires_at=expires_at,
        )
        return token, key

    def touch(self) -> None:
        """Record that the key was used, without a write on every request."""
        now = timezone.now()
        if self.last_used_at and now - self.last_used_at < LAST_USED_RESOLUTION:
            return

        ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
        self.last_used_at = now

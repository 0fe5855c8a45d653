from django.conf import settings
from django.db import models
from django.utils import timezone

from platforms.crypto import EncryptedJSONField
from platforms.names import Platform

__all__ = ["Account", "AccountHealth", "MastodonApp", "Platform"]


class AccountHealth(models.TextChoices):
    ACTIVE = "active", "Active"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"
    REVOKED = "revoked", "Revoked"


class AccountQuerySet(models.QuerySet):
    def owned_by(self, user) -> "AccountQuerySet":
        return self.filter(owner=user)


class Account(models.Model):
    """A connected account on one platform, owned by one user.

    `credentials` is encrypted at rest and must never be logged, serialised or displayed.
    `credentials_version` increases with every change, so a worker that refreshed a token under
    the account lock can tell whether another worker refreshed it first.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accounts"
    )
    platform = models.CharField(max_length=20, choices=Platform.choices)
    handle = models.CharField(
        max_length=255, help_text="The name people see: @handle, page or blog."
    )
    remote_id = models.CharField(
        max_length=255, help_text="The platform's id: DID, account id, page, user or blog id."
    )
    base_url = models.URLField(
        blank=True, help_text="PDS or instance URL, for platforms where it varies per account."
    )
    display_name = models.CharField(max_length=255, blank=True)
    credentials = EncryptedJSONField(default=dict, editable=False)
    credentials_version = models.PositiveIntegerField(default=0, editable=False)
    health = models.CharField(
        max_length=20, choices=AccountHealth.choices, default=AccountHealth.ACTIVE
    )
    health_reason = models.TextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    limits = models.JSONField(
        default=dict, blank=True, help_text="Per-account limits read from the platform."
    )
    limits_checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["platform", "handle"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "platform", "remote_id"], name="account_unique_per_owner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.handle}"

    @property
    def is_usable(self) -> bool:
        return self.health == AccountHealth.ACTIVE

    def store_credentials(self, credentials: dict, *, expires_at=None) -> None:
        """Replace the credentials and save them at once (they are worth more than the row)."""
        self.credentials = credentials
        self.credentials_version += 1
        fields = ["credentials", "credentials_version", "updated_at"]
        if expires_at is not None:
            self.token_expires_at = expires_at
            fields.append("token_expires_at")
        self.save(update_fields=fields)

    def mark_needs_reconnect(self, reason: str) -> None:
        self.health = AccountHealth.NEEDS_RECONNECT
        self.health_reason = reason
        self.last_error = reason
        self.save(update_fields=["health", "health_reason", "last_error", "updated_at"])

    def mark_active(self) -> None:
        self.health = AccountHealth.ACTIVE
        self.health_reason = ""
        self.last_error = ""
        self.save(update_fields=["health", "health_reason", "last_error", "updated_at"])

    def reconnect_message(self) -> str:
        return f"reconnect {self.get_platform_display()} account {self.handle}"

    def touch_limits(self, limits: dict) -> None:
        self.limits = limits
        self.limits_checked_at = timezone.now()
        self.save(update_fields=["limits", "limits_checked_at", "updated_at"])


class MastodonApp(models.Model):
    """Hayon's OAuth client on one Mastodon instance, registered the first time someone connects.

    One per (instance, redirect URI): a new public URL for Hayon registers a new client.
    """

    base_url = models.URLField(help_text="The instance, e.g. https://mastodon.social")
    redirect_uri = models.URLField(max_length=500)
    client_id = models.CharField(max_length=255)
    secrets = EncryptedJSONField(default=dict, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["base_url", "redirect_uri"], name="mastodon_app_unique_per_instance"
            ),
        ]

    def __str__(self) -> str:
        return f"Hayon on {self.base_url}"

import uuid

from django.conf import settings
from django.db import models


class MediaStatus(models.TextChoices):
    AWAITING_UPLOAD = "awaiting_upload", "Awaiting upload"
    READY = "ready", "Checked and stored"


class MediaQuerySet(models.QuerySet):
    def owned_by(self, user) -> "MediaQuerySet":
        return self.filter(owner=user)


class Media(models.Model):
    """One uploaded image. Signed as `temp/<owner>/<uuid>.<ext>`, moved under `posts/` once a
    post uses it and the object passed the checks (owner, size, real type)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="media"
    )
    status = models.CharField(
        max_length=20, choices=MediaStatus.choices, default=MediaStatus.AWAITING_UPLOAD
    )
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(help_text="Declared at signing, verified after upload.")
    key = models.CharField(max_length=512, help_text="Where the object is in storage now.")
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    alt = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MediaQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "media"

    def __str__(self) -> str:
        return f"{self.filename} ({self.content_type})"

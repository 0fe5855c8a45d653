import uuid

from django.conf import settings
from django.db import models


class MediaStatus(models.TextChoices):
    AWAITING_UPLOAD = "awaiting_upload", "Awaiting upload"
    READY = "ready", "Checked and stored"


class MediaBackend(models.TextChoices):
    LOCAL = "local", "Local folder"
    S3 = "s3", "S3 bucket"


class MediaQuerySet(models.QuerySet):
    def owned_by(self, user) -> "MediaQuerySet":
        return self.filter(owner=user)


class Media(models.Model):
    """One uploaded image. Signed as `temp/<owner>/<uuid>.<ext>`, moved under `posts/` once a
    post uses it and the object passed the checks (owner, size, real type).

    `backend` is fixed when the upload is signed, so rows keep working when the deployment
    later switches from the local folder to a bucket (or the other way round).
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="media"
    )
    status = models.CharField(
        max_length=20, choices=MediaStatus.choices, default=MediaStatus.AWAITING_UPLOAD
    )
    backend = models.CharField(
        max_length=10, choices=MediaBackend.choices, default=MediaBackend.LOCAL
    )
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(help_text="Declared at signing, verified after upload.")
    key = models.CharField(max_length=512, help_text="Where the object is in storage now.")
    thumbnail_key = models.CharField(max_length=512, blank=True)
    etag = models.CharField(
        max_length=200, blank=True, help_text="The checked object's ETag, pinned for the move."
    )
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    alt = models.TextField(blank=True)
    upload_expires_at = models.DateTimeField(null=True, blank=True)
    attached_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MediaQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "media"

    def __str__(self) -> str:
        return f"{self.filename} ({self.content_type})"

    @property
    def extension(self) -> str:
        return self.key.rsplit(".", 1)[-1]

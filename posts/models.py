from django.conf import settings
from django.db import models

from media.models import Media
from platforms.models import Account, Platform


class PostStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    PENDING = "PENDING", "Pending"
    SCHEDULED = "SCHEDULED", "Scheduled"
    PROCESSING = "PROCESSING", "Processing"
    COMPLETED = "COMPLETED", "Completed"
    PARTIAL_SUCCESS = "PARTIAL_SUCCESS", "Partly published"
    FAILED = "FAILED", "Failed"
    CANCELLED = "CANCELLED", "Cancelled"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued"
    PUBLISHING = "publishing", "Publishing"
    PUBLISHED = "published", "Published"
    RETRYING = "retrying", "Retrying"
    FAILED = "failed", "Failed"
    PARKED = "parked", "Parked"
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    CANCELLED = "cancelled", "Cancelled"


# A delivery in one of these states is waiting for the worker: it can still be cancelled or
# rescheduled. Once publishing starts, only the outcome can change it.
WAITING = (DeliveryStatus.PENDING, DeliveryStatus.QUEUED, DeliveryStatus.RETRYING)
# States a person may retry from.
RETRYABLE = (DeliveryStatus.FAILED, DeliveryStatus.PARKED, DeliveryStatus.UNCONFIRMED)
FINISHED = (
    DeliveryStatus.PUBLISHED,
    DeliveryStatus.FAILED,
    DeliveryStatus.PARKED,
    DeliveryStatus.UNCONFIRMED,
    DeliveryStatus.CANCELLED,
)


class PostQuerySet(models.QuerySet):
    def owned_by(self, user) -> "PostQuerySet":
        return self.filter(owner=user)


class Post(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts"
    )
    text = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=PostStatus.choices, default=PostStatus.PENDING, db_index=True
    )
    is_draft = models.BooleanField(default=False)
    scheduled_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Aware UTC; empty means post now."
    )
    timezone = models.CharField(
        max_length=64, default="UTC", help_text="The IANA zone the time was written in."
    )
    options = models.JSONField(
        default=dict, blank=True, help_text="visibility, spoiler_text, langs and the like."
    )
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    request_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="SHA-256 of the input the idempotency key was first sent with.",
    )
    media = models.ManyToManyField(Media, through="PostMedia", related_name="posts")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="post_idempotency_key_unique_per_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"Post {self.pk}: {self.text[:40]}"


class PostMedia(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="post_media")
    media = models.ForeignKey(Media, on_delete=models.PROTECT, related_name="post_media")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["post", "media"], name="post_media_unique"),
        ]

    def __str__(self) -> str:
        return f"Media {self.media_id} of post {self.post_id}"


class Delivery(models.Model):
    """One post to one account: its own status, attempts, error and link to the live post."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="deliveries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="deliveries")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    text = models.TextField(blank=True, default="", help_text="Override of the post's text.")
    status = models.CharField(
        max_length=20,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
        db_index=True,
    )
    attempt_count = models.PositiveIntegerField(default=0)
    retry_base = models.PositiveIntegerField(
        default=0, help_text="attempt_count when a person last retried: the retry budget restarts."
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a message was sent for next_attempt_at."
    )
    idempotency_key = models.CharField(
        max_length=255, help_text="Chosen before the first call: rkey, Idempotency-Key, ..."
    )
    platform_state = models.JSONField(
        default=dict,
        blank=True,
        help_text="Handles a platform needs to reconcile (container ids).",
    )
    needs_reconcile = models.BooleanField(
        default=False, help_text="An earlier call may have published: ask before trying again."
    )
    remote_id = models.CharField(max_length=255, blank=True)
    remote_url = models.URLField(max_length=500, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    version = models.PositiveIntegerField(
        default=1, help_text="Bumped on reschedule, cancel and replay; older messages are stale."
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["post", "account"], name="delivery_unique_per_account"
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"Delivery {self.pk} of post {self.post_id} to {self.platform}"

    @property
    def effective_text(self) -> str:
        return self.text or self.post.text


class AttemptOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    PUBLISHED = "published", "Published"
    RECONCILED = "reconciled", "Found already published"
    TRANSIENT = "transient", "Temporary failure"
    RATE_LIMITED = "rate_limited", "Rate limited"
    AUTH_EXPIRED = "auth_expired", "Token expired"
    PERMANENT = "permanent", "Refused"
    UNCONFIRMED = "unconfirmed", "Outcome unknown"
    INTERRUPTED = "interrupted", "Worker stopped during the call"


class Attempt(models.Model):
    """One call to a platform for a delivery: what an admin reads when something went wrong."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=20, choices=AttemptOutcome.choices, default=AttemptOutcome.RUNNING
    )
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    retry_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"Attempt {self.number} of delivery {self.delivery_id}: {self.outcome}"

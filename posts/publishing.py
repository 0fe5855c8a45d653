"""Publish one delivery: claim it, call the platform, and turn the answer into a state.

This is the only place that maps the shared platform errors to outcomes:

- RateLimited(retry_after): retry no sooner than asked.
- TransientError: retry after 5 s, 30 s, 2 min (HAYON_RETRY_DELAYS, with jitter), then park.
- AuthExpired: refresh the credentials once under the account lock, retry at once.
- ReconnectRequired: the account needs reconnecting; the delivery fails saying so.
- PermanentError: fail now with the platform's reason.
- Unconfirmed from a create call: reconcile on the next attempt before anything else;
  Unconfirmed from reconciling: the delivery is `unconfirmed` and waits for a person.

The remote id is committed the moment the platform answers, before anything else happens, so
a failure afterwards can never lead to a second publication.
"""

import enum
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from media import storage
from platforms.base import MediaItem, PublishRequest, PublishResult
from platforms.errors import (
    AuthExpired,
    PermanentError,
    PublishError,
    RateLimited,
    ReconnectRequired,
    TransientError,
    Unconfirmed,
)
from platforms.models import Account
from platforms.registry import get_publisher
from posts.dispatch import WAITING_VALUES, enqueue_on_commit, placeholders, update_returning
from posts.models import (
    FINISHED,
    WAITING,
    Attempt,
    AttemptOutcome,
    Delivery,
    DeliveryStatus,
)
from posts.status import refresh_post_status

logger = logging.getLogger(__name__)
T = TypeVar("T")
PUBLISHING = DeliveryStatus.PUBLISHING.value

# A message may arrive this early (clock differences, whole-second countdowns) and still count.
EARLY_TOLERANCE = timedelta(seconds=1)


class Outcome(enum.Enum):
    SKIPPED = "skipped"
    PUBLISHED = "published"
    RETRY = "retry"
    FAILED = "failed"
    PARKED = "parked"
    UNCONFIRMED = "unconfirmed"


def publish(
    delivery_id: int, version: int, *, redelivered: bool = False, worker: str = ""
) -> Outcome:
    """Publish the delivery if this message still stands for it; return what happened."""
    delivery = Delivery.objects.select_related("account", "post").filter(pk=delivery_id).first()
    if delivery is None:
        logger.warning("delivery message for a deleted delivery=%s: dropped", delivery_id)
        return Outcome.SKIPPED

    if delivery.version != version:
        log_skip(delivery, f"stale message (version {version}, now {delivery.version})")
        return Outcome.SKIPPED

    if delivery.status == DeliveryStatus.PUBLISHING and redelivered:
        recover_interrupted(delivery)
        delivery.refresh_from_db()

    if delivery.status in FINISHED or delivery.status == DeliveryStatus.PUBLISHING:
        log_skip(delivery, f"already {delivery.status}")
        return Outcome.SKIPPED

    now = timezone.now()
    if delivery.next_attempt_at and delivery.next_attempt_at - EARLY_TOLERANCE > now:
        log_skip(delivery, f"not due until {delivery.next_attempt_at.isoformat()}")
        return Outcome.SKIPPED

    attempt = claim(delivery, worker)
    if attempt is None:
        log_skip(delivery, "claimed by another worker")
        return Outcome.SKIPPED

    return run_attempt(delivery, attempt)


def log_skip(delivery: Delivery, reason: str) -> None:
    logger.info(
        "delivery message skipped post=%s delivery=%s platform=%s: %s",
        delivery.post_id,
        delivery.pk,
        delivery.platform,
        reason,
    )


def claim(delivery: Delivery, worker: str) -> Attempt | None:
    """Move the delivery to publishing with a compare-and-set; return the new attempt or None."""
    with transaction.atomic():
        won = update_returning(
            "status = %s, attempt_count = attempt_count + 1, updated_at = %s",
            f"id = %s AND version = %s AND status IN ({placeholders(WAITING)})",
            [PUBLISHING, timezone.now(), delivery.pk, delivery.version, *WAITING_VALUES],
        )
        if not won:
            return None

        take_fields(delivery, won[0])
        attempt = Attempt.objects.create(
            delivery=delivery, number=delivery.attempt_count, worker=worker[:255]
        )

    logger.info(
        "delivery publishing post=%s delivery=%s platform=%s attempt=%s",
        delivery.post_id,
        delivery.pk,
        delivery.platform,
        attempt.number,
    )
    refresh_post_status(delivery.post_id)
    return attempt


def take_fields(delivery: Delivery, fresh: Delivery) -> None:
    """Copy the row as the claim left it onto `delivery`, keeping its loaded account and post.

    Another attempt may have run since the message read the row (a needs_reconcile, a
    container id in platform_state): the attempt works from the row it won.
    """
    for field in Delivery._meta.concrete_fields:
        setattr(delivery, field.attname, getattr(fresh, field.attname))


def recover_interrupted(delivery: Delivery) -> None:
    """A worker died during a call: close its attempt and make the next one reconcile first."""
    with transaction.atomic():
        moved = Delivery.objects.filter(
            pk=delivery.pk, version=delivery.version, status=DeliveryStatus.PUBLISHING
        ).update(status=DeliveryStatus.QUEUED, needs_reconcile=True, updated_at=timezone.now())
        if moved:
            delivery.attempts.filter(outcome=AttemptOutcome.RUNNING).update(
                outcome=AttemptOutcome.INTERRUPTED,
                finished_at=timezone.now(),
                error_message="The worker stopped during the platform call.",
            )

    if moved:
        logger.warning(
            "delivery interrupted by a worker stop, will reconcile post=%s delivery=%s "
            "platform=%s",
            delivery.post_id,
            delivery.pk,
            delivery.platform,
        )


def run_attempt(delivery: Delivery, attempt: Attempt) -> Outcome:
    account = delivery.account
    if not account.is_usable:
        return fail(delivery, attempt, ReconnectRequired(account.reconnect_message()))

    try:
        result, reconciled = call_platform(delivery, account, attempt)
    except PublishError as exc:
        return handle_error(delivery, attempt, exc)
    except Exception as exc:
        # A bug or an unmapped library error: nothing says the post was made, but nothing says
        # it was not either, so the next attempt reconciles first.
        logger.exception(
            "unexpected error publishing post=%s delivery=%s platform=%s attempt=%s",
            delivery.post_id,
            delivery.pk,
            delivery.platform,
            attempt.number,
        )
        error = Unconfirmed(f"Unexpected error: {type(exc).__name__}")
        return handle_error(delivery, attempt, error)

    return record_success(delivery, attempt, result, reconciled=reconciled)


def build_request(delivery: Delivery, attempt: Attempt) -> PublishRequest:
    post = delivery.post
    media = tuple(
        MediaItem(
            media_id=item.media.pk,
            content_type=item.media.content_type,
            size=item.media.size,
            width=item.media.width or 0,
            height=item.media.height or 0,
            alt=item.media.alt,
            url=storage.fetch_url(item.media.key, item.media.backend),
            read=partial(storage.read_bytes, item.media.key, item.media.backend),
        )
        for item in post.post_media.select_related("media").order_by("position")
    )

    def remember(state: dict) -> None:
        delivery.platform_state = {**delivery.platform_state, **state}
        Delivery.objects.filter(pk=delivery.pk).update(platform_state=delivery.platform_state)

    return PublishRequest(
        delivery_id=delivery.pk,
        post_id=post.pk,
        text=delivery.effective_text,
        idempotency_key=delivery.idempotency_key,
        attempt=attempt.number,
        media=media,
        options=post.options,
        state=dict(delivery.platform_state),
        remember=remember,
    )


def call_platform(
    delivery: Delivery, account: Account, attempt: Attempt
) -> tuple[PublishResult, bool]:
    """Return the platform's answer and whether it came from reconciling an earlier try."""
    publisher = get_publisher(delivery.platform)
    request = build_request(delivery, attempt)

    if delivery.needs_reconcile:
        try:
            found = with_fresh_credentials(account, lambda: publisher.reconcile(account, request))
        except Unconfirmed as exc:
            exc.from_reconcile = True
            raise
        if found is not None:
            return found, True
        delivery.needs_reconcile = False
        Delivery.objects.filter(pk=delivery.pk).update(needs_reconcile=False)

    return with_fresh_credentials(account, lambda: publisher.publish(account, request)), False


def with_fresh_credentials(account: Account, call: Callable[[], T]) -> T:
    """Run a platform call; on AuthExpired refresh the credentials once and run it again."""
    try:
        return call()
    except AuthExpired:
        refresh_under_lock(account)

    try:
        return call()
    except AuthExpired as again:
        raise ReconnectRequired(f"{account.reconnect_message()}: {again.message}") from again


def refresh_under_lock(account: Account) -> None:
    """Refresh the account's credentials once, however many workers find them expired.

    The first worker to lock the row refreshes; the others wait on the lock, then see that
    credentials_version moved and use the new credentials without refreshing again.
    """
    seen_version = account.credentials_version
    publisher = get_publisher(account.platform)
    failure: ReconnectRequired | None = None

    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        if not locked.is_usable:
            # Another worker's refresh failed while we waited for the lock.
            failure = ReconnectRequired(locked.health_reason or locked.reconnect_message())
        elif locked.credentials_version == seen_version:
            logger.info(
                "refreshing credentials account=%s platform=%s", account.pk, account.platform
            )
            try:
                publisher.refresh_credentials(locked)
            except ReconnectRequired as exc:
                # Marked before the lock is released, so waiting workers see it.
                locked.mark_needs_reconnect(exc.message)
                failure = exc

    account.refresh_from_db()
    if failure is not None:
        raise failure


def record_success(
    delivery: Delivery, attempt: Attempt, result: PublishResult, *, reconciled: bool
) -> Outcome:
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PUBLISHED,
            remote_id=result.remote_id,
            remote_url=result.url,
            published_at=now,
            updated_at=now,
            needs_reconcile=False,
            error_code="",
            error_message="",
            next_attempt_at=None,
        )
        Attempt.objects.filter(pk=attempt.pk).update(
            outcome=AttemptOutcome.RECONCILED if reconciled else AttemptOutcome.PUBLISHED,
            finished_at=now,
        )

    logger.info(
        "delivery published post=%s delivery=%s platform=%s attempt=%s remote_id=%s url=%s%s",
        delivery.post_id,
        delivery.pk,
        delivery.platform,
        attempt.number,
        result.remote_id,
        result.url,
        " (found by reconciling)" if reconciled else "",
    )
    after_publish(delivery)
    return Outcome.PUBLISHED


def after_publish(delivery: Delivery) -> None:
    """Side effects of a publication. The remote id is committed already, so a failure here
    is logged and left to the dispatcher's repair pass; it never causes a second publish."""
    try:
        refresh_post_status(delivery.post_id)
    except Exception:
        logger.exception(
            "post status not updated after publishing post=%s delivery=%s platform=%s; the "
            "dispatcher will repair it",
            delivery.post_id,
            delivery.pk,
            delivery.platform,
        )


def handle_error(delivery: Delivery, attempt: Attempt, exc: PublishError) -> Outcome:
    if isinstance(exc, RateLimited):
        jitter = random.uniform(0, settings.HAYON_RETRY_JITTER) * exc.retry_after
        return retry_later(
            delivery, attempt, exc, exc.retry_after + jitter, AttemptOutcome.RATE_LIMITED
        )

    if isinstance(exc, Unconfirmed):
        if getattr(exc, "from_reconcile", False):
            return mark_unconfirmed(delivery, attempt, exc)
        Delivery.objects.filter(pk=delivery.pk).update(needs_reconcile=True)
        return retry_or_park(delivery, attempt, exc, AttemptOutcome.UNCONFIRMED)

    if isinstance(exc, TransientError):
        return retry_or_park(delivery, attempt, exc, AttemptOutcome.TRANSIENT)

    if isinstance(exc, ReconnectRequired | AuthExpired):
        account = delivery.account
        if account.is_usable:
            account.mark_needs_reconnect(exc.message)
        return fail(delivery, attempt, exc, message=account.reconnect_message())

    if isinstance(exc, PermanentError):
        return fail(delivery, attempt, exc)

    return retry_or_park(delivery, attempt, exc, AttemptOutcome.TRANSIENT)


def transient_failures(delivery: Delivery) -> int:
    return delivery.attempts.filter(
        number__gt=delivery.retry_base,
        outcome__in=[AttemptOutcome.TRANSIENT, AttemptOutcome.UNCONFIRMED],
    ).count()


def retry_or_park(
    delivery: Delivery, attempt: Attempt, exc: PublishError, outcome: AttemptOutcome
) -> Outcome:
    delays = settings.HAYON_RETRY_DELAYS
    failures = transient_failures(delivery) + 1
    if failures > len(delays):
        return park(delivery, attempt, exc, outcome)

    base = delays[failures - 1]
    jitter = random.uniform(-settings.HAYON_RETRY_JITTER, settings.HAYON_RETRY_JITTER) * base
    return retry_later(delivery, attempt, exc, max(base + jitter, 0.0), outcome)


def retry_later(
    delivery: Delivery,
    attempt: Attempt,
    exc: PublishError,
    delay: float,
    outcome: AttemptOutcome,
) -> Outcome:
    now = timezone.now()
    retry_at = now + timedelta(seconds=delay)
    with transaction.atomic():
        close_attempt(attempt, outcome, exc, retry_at=retry_at)
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.RETRYING,
            updated_at=now,
            next_attempt_at=retry_at,
            enqueued_at=None,
            error_code=exc.code,
            error_message=exc.message,
        )
        enqueue_on_commit([delivery.pk])

    logger.warning(
        "delivery will retry post=%s delivery=%s platform=%s attempt=%s in=%.1fs reason=%s",
        delivery.post_id,
        delivery.pk,
        delivery.platform,
        attempt.number,
        delay,
        exc.message,
    )
    refresh_post_status(delivery.post_id)
    return Outcome.RETRY


def park(
    delivery: Delivery, attempt: Attempt, exc: PublishError, outcome: AttemptOutcome
) -> Outcome:
    finish(delivery, attempt, exc, outcome, DeliveryStatus.PARKED)
    logger.error(
        "delivery parked after %s attempts post=%s delivery=%s platform=%s attempt=%s "
        "reason=%s; replay with `manage.py replay_parked` once the cause is fixed",
        attempt.number,
        delivery.post_id,
        delivery.pk,
        delivery.platform,
        attempt.number,
        exc.message,
    )
    return Outcome.PARKED


def fail(
    delivery: Delivery, attempt: Attempt, exc: PublishError, *, message: str | None = None
) -> Outcome:
    outcome = (
        AttemptOutcome.AUTH_EXPIRED
        if isinstance(exc, ReconnectRequired | AuthExpired)
        else AttemptOutcome.PERMANENT
    )
    finish(delivery, attempt, exc, outcome, DeliveryStatus.FAILED, message=message)
    logger.error(
        "delivery failed post=%s delivery=%s platform=%s attempt=%s code=%s reason=%s",
        delivery.post_id,
        delivery.pk,
        delivery.platform,
        attempt.number,
        exc.code,
        message or exc.message,
    )
    return Outcome.FAILED


def mark_unconfirmed(delivery: Delivery, attempt: Attempt, exc: PublishError) -> Outcome:
    finish(delivery, attempt, exc, AttemptOutcome.UNCONFIRMED, DeliveryStatus.UNCONFIRMED)
    logger.error(
        "delivery unconfirmed: the platform may or may not have published post=%s delivery=%s "
        "platform=%s attempt=%s reason=%s; check the account and resolve it in the admin",
        delivery.post_id,
        delivery.pk,
        delivery.platform,
        attempt.number,
        exc.message,
    )
    return Outcome.UNCONFIRMED


def finish(
    delivery: Delivery,
    attempt: Attempt,
    exc: PublishError,
    outcome: AttemptOutcome,
    status: DeliveryStatus,
    *,
    message: str | None = None,
) -> None:
    with transaction.atomic():
        close_attempt(attempt, outcome, exc)
        Delivery.objects.filter(pk=delivery.pk).update(
            status=status,
            updated_at=timezone.now(),
            next_attempt_at=None,
            error_code=exc.code,
            error_message=message or exc.message,
        )
    refresh_post_status(delivery.post_id)


def close_attempt(attempt: Attempt, outcome: AttemptOutcome, exc: PublishError, **fields) -> None:
    Attempt.objects.filter(pk=attempt.pk).update(
        outcome=outcome,
        finished_at=timezone.now(),
        http_status=exc.http_status,
        error_code=exc.code,
        error_message=exc.message,
        **fields,
    )

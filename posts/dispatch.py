"""Sending delivery messages to the broker, and finding the ones that need sending.

The database says when a delivery is due; a message only moves it. Deliveries due within the
horizon get a message with a countdown (held by RabbitMQ's delayed-delivery queues); later
ones wait in the database until the periodic dispatcher sends them. A message carries the
delivery's version, so cancel and reschedule never need to find it in the broker.
"""

import logging
import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from posts.models import WAITING, Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

# Plain strings: a database driver need not know Django's choices.
PENDING, QUEUED = DeliveryStatus.PENDING.value, DeliveryStatus.QUEUED.value
WAITING_VALUES = [status.value for status in WAITING]
# Enough ids for one statement, well within SQLite's limit on parameters.
CLAIM_BATCH = 500


def countdown_for(due: datetime | None, now: datetime) -> int | None:
    """Return the whole-second countdown for a message due at `due`, or None to send now.

    The delayed-delivery exchanges work in whole seconds and Celery refuses countdowns under
    one second with quorum queues, so the delay is rounded up: a message is never early
    (a rate limit's "not before" holds), and at most one second late.
    """
    if due is None:
        return None

    delay = (due - now).total_seconds()
    if delay <= 0:
        return None
    return max(1, math.ceil(delay))


def send(delivery: Delivery, now: datetime | None = None) -> None:
    """Send the message that publishes this delivery at its next_attempt_at."""
    from posts.tasks import publish_delivery

    now = now or timezone.now()
    countdown = countdown_for(delivery.next_attempt_at, now)
    publish_delivery.apply_async(
        kwargs={
            "delivery_id": delivery.pk,
            "version": delivery.version,
            "platform": delivery.platform,
        },
        countdown=countdown,
    )
    logger.info(
        "delivery message sent post=%s delivery=%s platform=%s version=%s countdown=%s",
        delivery.post_id,
        delivery.pk,
        delivery.platform,
        delivery.version,
        countdown,
    )


def update_returning(assignments: str, condition: str, params: list) -> list[Delivery]:
    """Run one UPDATE of deliveries; return the rows it changed, as they are after it.

    One statement makes the compare-and-set: the database checks `condition` against each
    row as it changes it, so of two callers only one ever wins a row. Django's update()
    returns a count only, hence RETURNING (PostgreSQL, and SQLite from 3.35).
    """
    columns = ", ".join(f.column for f in Delivery._meta.concrete_fields)
    table = Delivery._meta.db_table
    # Callers pass fixed SQL text; every value travels as a parameter.
    sql = f"UPDATE {table} SET {assignments} WHERE {condition} RETURNING {columns}"  # noqa: S608
    return list(Delivery.objects.raw(sql, params))


def placeholders(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def enqueue_if_due(delivery_ids: list[int]) -> int:
    """Send messages for those of the deliveries that fall within the horizon; return how many.

    Each is marked enqueued with a compare-and-set first, so two dispatchers (or a dispatcher
    and a request) never both send it; a message lost on the way is found again by
    `resend_lost`.
    """
    now = timezone.now()
    horizon = now + timedelta(seconds=settings.HAYON_DISPATCH_HORIZON)

    sent = 0
    for start in range(0, len(delivery_ids), CLAIM_BATCH):
        batch = delivery_ids[start : start + CLAIM_BATCH]
        claimed = update_returning(
            "enqueued_at = %s, status = CASE WHEN status = %s THEN %s ELSE status END",
            f"id IN ({placeholders(batch)}) AND status IN ({placeholders(WAITING)}) "
            "AND enqueued_at IS NULL AND next_attempt_at <= %s",
            [now, PENDING, QUEUED, *batch, *WAITING_VALUES, horizon],
        )
        sent += send_claimed(sorted(claimed, key=lambda d: d.pk), now)

    return sent


def send_claimed(claimed: list[Delivery], claimed_at: datetime) -> int:
    """Send a message for each claimed delivery; return how many were sent.

    If the broker fails, the deliveries not tried yet are let go again, so the next dispatcher
    run takes them at once; the one that failed stays claimed and is re-sent by `resend_lost`
    (its message may have arrived).
    """
    for position, delivery in enumerate(claimed):
        try:
            # The countdown counts from this message's own send, not the batch's start: with
            # publisher confirms a batch of hundreds takes seconds, and each would be that late.
            send(delivery)
        except Exception:
            untried = [d.pk for d in claimed[position + 1 :]]
            Delivery.objects.filter(pk__in=untried, enqueued_at=claimed_at).update(
                enqueued_at=None
            )
            raise

    return len(claimed)


def enqueue_on_commit(delivery_ids: list[int]) -> None:
    """Send after the transaction commits. A broker failure is logged, not raised: the rows
    are committed and the dispatcher re-sends them once HAYON_LOST_MESSAGE_GRACE has passed."""
    transaction.on_commit(lambda: enqueue_if_due(delivery_ids), robust=True)


def dispatch_due() -> dict[str, int]:
    """Send deliveries that entered the horizon, and re-send those whose message was lost."""
    now = timezone.now()
    horizon = now + timedelta(seconds=settings.HAYON_DISPATCH_HORIZON)
    entering = list(
        Delivery.objects.filter(
            status__in=WAITING, enqueued_at__isnull=True, next_attempt_at__lte=horizon
        ).values_list("pk", flat=True)
    )
    sent = enqueue_if_due(entering) if entering else 0

    return {
        "sent": sent,
        "resent": resend_lost(now),
        "recovered": recover_stuck(now),
        "repaired": repair_post_statuses(),
    }


def resend_lost(now: datetime) -> int:
    """Re-send deliveries still waiting well past their time: their message never arrived.

    A duplicate is harmless: the task claims a delivery with a compare-and-set, and only one
    message can win it.
    """
    grace = timedelta(seconds=settings.HAYON_LOST_MESSAGE_GRACE)
    lost = Delivery.objects.filter(
        Q(status__in=WAITING),
        enqueued_at__lte=now - grace,
        next_attempt_at__lte=now - grace,
    )

    resent = 0
    for delivery in lost:
        claimed = Delivery.objects.filter(
            pk=delivery.pk, version=delivery.version, enqueued_at=delivery.enqueued_at
        ).update(enqueued_at=now)
        if claimed:
            logger.warning(
                "delivery message presumed lost, sending again post=%s delivery=%s "
                "platform=%s due=%s",
                delivery.post_id,
                delivery.pk,
                delivery.platform,
                delivery.next_attempt_at.isoformat(),
            )
            send(delivery, now)
            resent += 1

    return resent


def recover_stuck(now: datetime) -> int:
    """Reconcile deliveries left `publishing` by a worker that vanished without a trace.

    RabbitMQ redelivers the message of a worker that died, so this only matters when the
    message itself is gone (a crash while the database was unreachable, say). The delivery
    goes back to queued with needs_reconcile, so the platform is asked before anything else.
    """
    from posts.models import AttemptOutcome

    stuck_before = now - timedelta(seconds=settings.HAYON_STUCK_AFTER)
    stuck = Delivery.objects.filter(status=DeliveryStatus.PUBLISHING, updated_at__lt=stuck_before)

    recovered = 0
    for delivery in stuck:
        with transaction.atomic():
            moved = Delivery.objects.filter(
                pk=delivery.pk, version=delivery.version, status=DeliveryStatus.PUBLISHING
            ).update(
                status=DeliveryStatus.QUEUED,
                needs_reconcile=True,
                next_attempt_at=now,
                enqueued_at=None,
                updated_at=now,
            )
            delivery.attempts.filter(outcome=AttemptOutcome.RUNNING).update(
                outcome=AttemptOutcome.INTERRUPTED,
                finished_at=now,
                error_message="No worker finished this attempt; reconciling with the platform.",
            )
        if moved:
            logger.warning(
                "delivery stuck in publishing, reconciling post=%s delivery=%s platform=%s",
                delivery.post_id,
                delivery.pk,
                delivery.platform,
            )
            enqueue_if_due([delivery.pk])
            recovered += 1

    return recovered


def repair_post_statuses() -> int:
    """Recompute the status of posts whose deliveries all finished but that still look busy."""
    from posts.models import FINISHED, Post, PostStatus
    from posts.status import refresh_post_status

    busy = Post.objects.filter(
        status__in=[PostStatus.PENDING, PostStatus.SCHEDULED, PostStatus.PROCESSING],
        is_draft=False,
    ).exclude(deliveries__status__in=[s for s in DeliveryStatus.values if s not in FINISHED])

    repaired = 0
    for post_id in busy.values_list("pk", flat=True)[:500]:
        refresh_post_status(post_id)
        repaired += 1
    return repaired

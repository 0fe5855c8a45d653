"""Resolving a delivery by hand, when the worker could not tell or gave up.

A parked or unconfirmed delivery waits for a person. They look at the platform and either
record that the post is there (its URL) or that it is not and will not be (failed). Both are
compare-and-set updates on the status, so a replay or a worker that got there first wins and
the person is told, instead of one overwriting the other.
"""

import logging

from django.db.models import F
from django.utils import timezone

from hayon.errors import Conflict
from posts.models import Delivery, DeliveryStatus
from posts.status import refresh_post_status

logger = logging.getLogger(__name__)

# A failed delivery can still turn out to be live (a person found it on the platform).
PUBLISHABLE_BY_HAND = (
    DeliveryStatus.FAILED,
    DeliveryStatus.PARKED,
    DeliveryStatus.UNCONFIRMED,
)
FAILABLE_BY_HAND = (DeliveryStatus.PARKED, DeliveryStatus.UNCONFIRMED)


def mark_published(delivery: Delivery, url: str, *, remote_id: str = "", by: str = "") -> Delivery:
    """Record that the delivery's post is live at `url`; raise Conflict if it moved on."""
    now = timezone.now()
    done = Delivery.objects.filter(pk=delivery.pk, status__in=PUBLISHABLE_BY_HAND).update(
        status=DeliveryStatus.PUBLISHED,
        remote_url=url,
        remote_id=remote_id or delivery.remote_id,
        published_at=now,
        needs_reconcile=False,
        next_attempt_at=None,
        error_code="",
        error_message="",
        # Any message still travelling for this delivery is now stale.
        version=F("version") + 1,
        updated_at=now,
    )
    if not done:
        delivery.refresh_from_db(fields=["status"])
        raise Conflict(
            f"delivery {delivery.pk} is {delivery.status}; only failed, parked or unconfirmed "
            "deliveries can be marked published by hand",
            code="not_resolvable",
        )

    logger.info(
        "delivery marked published by hand post=%s delivery=%s platform=%s by=%s url=%s",
        delivery.post_id,
        delivery.pk,
        delivery.platform,
        by,
        url,
    )
    return _finish(delivery)


def mark_failed(delivery: Delivery, reason: str = "", *, by: str = "") -> Delivery:
    """Record that the delivery's post is not on the platform; raise Conflict if it moved on."""
    message = reason or "Marked failed by an administrator after checking the platform."
    done = Delivery.objects.filter(pk=delivery.pk, status__in=FAILABLE_BY_HAND).update(
        status=DeliveryStatus.FAILED,
        needs_reconcile=False,
        next_attempt_at=None,
        error_code="resolved_by_hand",
        error_message=message,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if not done:
        delivery.refresh_from_db(fields=["status"])
        raise Conflict(
            f"delivery {delivery.pk} is {delivery.status}; only parked or unconfirmed "
            "deliveries can be marked failed by hand",
            code="not_resolvable",
        )

    logger.info(
        "delivery marked failed by hand post=%s delivery=%s platform=%s by=%s",
        delivery.post_id,
        delivery.pk,
        delivery.platform,
        by,
    )
    return _finish(delivery)


def _finish(delivery: Delivery) -> Delivery:
    refresh_post_status(delivery.post_id)
    delivery.refresh_from_db()
    return delivery

"""Celery tasks: thin wrappers that take ids and call the services that do the work."""

import logging

from celery import shared_task
from celery.exceptions import Reject

from posts import dispatch, publishing

logger = logging.getLogger(__name__)


@shared_task(name="posts.publish_delivery", bind=True, acks_late=True, ignore_result=True)
def publish_delivery(self, delivery_id: int, version: int, platform: str) -> str:
    """Publish one delivery. Idempotent: a duplicate or stale message is acknowledged and skipped.

    When the delivery runs out of retries the message is rejected without requeue, which
    dead-letters it into the parking lot for an admin to replay.
    """
    info = self.request.delivery_info or {}
    outcome = publishing.publish(
        delivery_id,
        version,
        redelivered=bool(info.get("redelivered")),
        worker=self.request.hostname or "",
    )

    if outcome is publishing.Outcome.PARKED:
        raise Reject(f"delivery {delivery_id} parked after its last retry", requeue=False)

    return outcome.value


@shared_task(name="posts.dispatch_due", ignore_result=True)
def dispatch_due() -> dict[str, int]:
    """Send deliveries entering the horizon and re-send lost ones (Celery beat, one instance)."""
    return dispatch.dispatch_due()

"""The parking lot: messages of deliveries that ran out of retries, kept for a person.

A delivery that fails transiently after its last retry is marked `parked` and its message is
dead-lettered into the `posts.parking_lot` queue, which nothing consumes. Replaying takes
the messages out, sends each parked delivery again with a fresh retry budget, and drops
messages whose delivery is no longer parked (replayed already, or resolved by hand). The
database decides what is parked: a parked delivery whose message is not in the queue (purged,
or lost) is sent again all the same.
"""

import logging
from dataclasses import dataclass, field

from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError

from hayon.celery import app
from hayon.errors import Conflict
from hayon.topology import parking_queue
from posts.models import Delivery, DeliveryStatus
from posts.services import not_retryable, retry_delivery

logger = logging.getLogger(__name__)

# What a broker that is down or drops the connection raises through kombu and py-amqp.
BROKER_ERRORS = (OSError, KombuError, AMQPError)


@dataclass
class ParkedMessage:
    delivery_id: int | None
    version: int | None
    platform: str
    reason: str


@dataclass
class ReplayReport:
    replayed: list[int] = field(default_factory=list)
    # Replayed deliveries that had no message in the parking lot.
    from_database: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    kept: int = 0


def _delivery_of(message) -> tuple[int | None, int | None, str]:
    _args, kwargs, _embed = message.decode()
    return kwargs.get("delivery_id"), kwargs.get("version"), kwargs.get("platform", "")


def _take_all(channel, limit: int) -> list:
    """Fetch up to `limit` messages without acknowledging them."""
    queue = parking_queue()(channel)
    queue.declare()
    messages = []
    while len(messages) < limit:
        message = queue.get(no_ack=False)
        if message is None:
            break
        messages.append(message)
    return messages


def inspect(limit: int = 1000) -> list[ParkedMessage]:
    """Return the messages in the parking lot, leaving them there."""
    with app.connection_for_write() as connection:
        channel = connection.channel()
        messages = _take_all(channel, limit)
        parked = []
        for message in messages:
            delivery_id, version, platform = _delivery_of(message)
            death = (message.headers.get("x-death") or [{}])[0]
            parked.append(ParkedMessage(delivery_id, version, platform, death.get("reason", "")))
        for message in messages:
            message.requeue()
        channel.close()
    return parked


def parked_without_message(
    seen: set[int | None], only: set[int] | None = None, limit: int = 10_000
) -> list[int]:
    """Return parked deliveries (all, or only those ids) whose message is not among `seen`."""
    parked = Delivery.objects.filter(status=DeliveryStatus.PARKED).exclude(pk__in=seen - {None})
    if only is not None:
        parked = parked.filter(pk__in=only)
    return list(parked.order_by("pk").values_list("pk", flat=True)[:limit])


def replay(delivery_ids: set[int] | None = None, limit: int = 10_000) -> ReplayReport:
    """Replay parked deliveries (all, or only the given ids), taking their messages out of the
    parking lot; send those without a message there from the database."""
    report = ReplayReport()
    seen: set[int | None] = set()
    with app.connection_for_write() as connection:
        channel = connection.channel()
        for message in _take_all(channel, limit):
            delivery_id, _version, _platform = _delivery_of(message)
            if delivery_ids is not None and delivery_id not in delivery_ids:
                message.requeue()
                report.kept += 1
                continue

            seen.add(delivery_id)
            replay_one(delivery_id, report)
            message.ack()
        channel.close()

    for delivery_id in parked_without_message(seen, delivery_ids, limit):
        logger.warning("parked delivery=%s has no message in the parking lot", delivery_id)
        if replay_one(delivery_id, report):
            report.from_database.append(delivery_id)

    logger.info(
        "parking lot replayed=%s from_database=%s dropped=%s kept=%s",
        report.replayed,
        report.from_database,
        report.dropped,
        report.kept,
    )
    return report


def retry(delivery: Delivery) -> Delivery:
    """Retry one delivery for its owner; a parked one leaves the parking lot with its message.

    Without this, a parked delivery retried from the post page or the API would leave its
    dead-lettered message behind, and the lot's depth, which on-call watches, would overstate
    what waits for a person.
    """
    if delivery.status != DeliveryStatus.PARKED:
        return retry_delivery(delivery)

    try:
        report = replay({delivery.pk})
    except BROKER_ERRORS as exc:
        # The database decides what is parked: without the broker the retry still stands,
        # and the message left in the lot is dropped as stale by the next replay.
        logger.warning(
            "parking lot unreachable, retrying from the database post=%s delivery=%s "
            "platform=%s: %s",
            delivery.post_id,
            delivery.pk,
            delivery.platform,
            exc,
        )
        delivery.refresh_from_db()
        if delivery.status == DeliveryStatus.PARKED:
            return retry_delivery(delivery)
        return delivery

    delivery.refresh_from_db()
    if delivery.pk not in report.replayed:
        raise not_retryable(delivery)

    return delivery


def replay_one(delivery_id: int | None, report: ReplayReport) -> bool:
    """Send the delivery again if it is still parked; return whether it was."""
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is not None and delivery.status == DeliveryStatus.PARKED:
        try:
            retry_delivery(delivery)
        except Conflict:
            # Resolved by someone else between the read and the retry.
            delivery.refresh_from_db()
        else:
            report.replayed.append(delivery.pk)
            return True

    logger.info(
        "parking lot message dropped delivery=%s: no longer parked (%s)",
        delivery_id,
        delivery.status if delivery else "deleted",
    )
    report.dropped.append(delivery_id)
    return False

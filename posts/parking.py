"""The parking lot: messages of deliveries that ran out of retries, kept for a person.

A delivery that fails transiently after its last retry is marked `parked` and its message is
dead-lettered into the `posts.parking_lot` queue, which nothing consumes. Replaying takes
the messages out, sends each parked delivery again with a fresh retry budget, and drops
messages whose delivery is no longer parked (replayed already, or resolved by hand).
"""

import logging
from dataclasses import dataclass, field

from hayon.celery import app
from hayon.topology import parking_queue
from posts.models import Delivery, DeliveryStatus
from posts.services import retry_delivery

logger = logging.getLogger(__name__)


@dataclass
class ParkedMessage:
    delivery_id: int | None
    version: int | None
    platform: str
    reason: str


@dataclass
class ReplayReport:
    replayed: list[int] = field(default_factory=list)
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


def replay(delivery_ids: set[int] | None = None, limit: int = 10_000) -> ReplayReport:
    """Replay parked deliveries (all, or only the given ids) from the parking lot."""
    report = ReplayReport()
    with app.connection_for_write() as connection:
        channel = connection.channel()
        messages = _take_all(channel, limit)
        for message in messages:
            delivery_id, _version, _platform = _delivery_of(message)
            if delivery_ids is not None and delivery_id not in delivery_ids:
                message.requeue()
                report.kept += 1
                continue

            replay_one(delivery_id, report)
            message.ack()
        channel.close()

    logger.info(
        "parking lot replayed=%s dropped=%s kept=%s",
        report.replayed,
        report.dropped,
        report.kept,
    )
    return report


def replay_one(delivery_id: int | None, report: ReplayReport) -> None:
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PARKED:
        logger.info(
            "parking lot message dropped delivery=%s: no longer parked (%s)",
            delivery_id,
            delivery.status if delivery else "deleted",
        )
        report.dropped.append(delivery_id)
        return

    retry_delivery(delivery)
    report.replayed.append(delivery.pk)

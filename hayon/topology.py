"""RabbitMQ topology: who sends what where.

- Topic exchange `posts`; one quorum queue per platform, `posts.<platform>`, bound to
  `post.create.<platform>`. A slow or throttled platform never holds up the others and can
  get workers of its own (`celery -A hayon worker -Q posts.instagram`).
- Each platform queue dead-letters into the `posts.parking` exchange, which routes everything
  to the `posts.parking_lot` queue. Nothing consumes it: an admin inspects and replays it.
  It is kept out of `task_queues` on purpose, so Celery's delayed-delivery bindings, which
  follow task_queues, never copy delayed messages into it.
- Maintenance tasks (the dispatcher, token upkeep) use `hayon.maintenance` on the `hayon`
  topic exchange.
- Delays (eta/countdown) use Celery's native delayed delivery for quorum queues: messages wait
  in the broker's `celery_delayed_*` queues, not in worker memory, and never meet RabbitMQ's
  consumer timeout.
"""

from kombu import Exchange, Queue

from platforms.names import Platform

POSTS_EXCHANGE = Exchange("posts", type="topic", durable=True)
PARKING_EXCHANGE = Exchange("posts.parking", type="topic", durable=True)
MAINTENANCE_EXCHANGE = Exchange("hayon", type="topic", durable=True)

PARKING_QUEUE_NAME = "posts.parking_lot"
MAINTENANCE_QUEUE_NAME = "hayon.maintenance"

QUORUM = {"x-queue-type": "quorum"}


def routing_key(platform: str) -> str:
    return f"post.create.{platform}"


def platform_queue_name(platform: str) -> str:
    return f"posts.{platform}"


def platform_queue(platform: str) -> Queue:
    return Queue(
        platform_queue_name(platform),
        POSTS_EXCHANGE,
        routing_key=routing_key(platform),
        durable=True,
        queue_arguments={
            **QUORUM,
            "x-dead-letter-exchange": PARKING_EXCHANGE.name,
        },
    )


def parking_queue() -> Queue:
    return Queue(
        PARKING_QUEUE_NAME,
        PARKING_EXCHANGE,
        routing_key="#",
        durable=True,
        queue_arguments=dict(QUORUM),
    )


def maintenance_queue() -> Queue:
    return Queue(
        MAINTENANCE_QUEUE_NAME,
        MAINTENANCE_EXCHANGE,
        routing_key="maintenance.#",
        durable=True,
        queue_arguments=dict(QUORUM),
    )


def task_queues() -> list[Queue]:
    return [platform_queue(p) for p in Platform.values] + [maintenance_queue()]


def plain_task_queues() -> list[Queue]:
    """Return the same queues and bindings without RabbitMQ's arguments (quorum type,
    dead-lettering), for the file broker, which knows neither."""
    return [
        Queue(queue.name, queue.exchange, routing_key=queue.routing_key, durable=True)
        for queue in task_queues()
    ]


def route_task(name, args, kwargs, options, task=None, **kw):
    """Send a delivery to its platform's queue and everything else to maintenance."""
    if name == "posts.publish_delivery":
        return {"queue": platform_queue_name(kwargs["platform"])}
    return {"queue": MAINTENANCE_QUEUE_NAME}


def declare_parking_lot(connection) -> None:
    """Declare the parking exchange and queue (the platform queues point at them)."""
    with connection.channel() as channel:
        parking_queue()(channel).declare()

"""The Celery app `hayon`: `celery -A hayon worker` and `celery -A hayon beat`."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hayon.settings")

app = Celery("hayon")
app.config_from_object("django.conf:settings", namespace="CELERY")


@app.on_after_configure.connect
def configure_messaging(sender: Celery, **kwargs) -> None:
    from django.conf import settings

    from hayon import topology

    is_amqp = sender.conf.broker_url.startswith(("amqp", "pyamqp"))
    sender.conf.update(
        # Every worker consumes every queue unless told otherwise (`--queues`); the file
        # broker (laptop mode) gets the same queues without RabbitMQ-only arguments.
        task_queues=topology.task_queues() if is_amqp else topology.plain_task_queues(),
        task_default_queue=topology.MAINTENANCE_QUEUE_NAME,
        task_default_exchange=topology.MAINTENANCE_EXCHANGE.name,
        # Native delayed delivery only works through topic (or fanout) exchanges.
        task_default_exchange_type="topic",
        task_default_routing_key="maintenance.default",
        task_routes=(topology.route_task,),
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        task_create_missing_queues=True,
        broker_connection_retry_on_startup=True,
        beat_schedule={
            "dispatch-due-deliveries": {
                "task": "posts.dispatch_due",
                "schedule": settings.HAYON_DISPATCH_INTERVAL,
            },
            "refresh-platform-tokens": {
                "task": "platforms.refresh_tokens",
                "schedule": settings.HAYON_TOKEN_UPKEEP_INTERVAL,
            },
        },
    )
    if is_amqp:
        # Publisher confirms: apply_async returns only once RabbitMQ has the message.
        options = dict(sender.conf.broker_transport_options or {})
        options.setdefault("confirm_publish", True)
        sender.conf.broker_transport_options = options


@signals.worker_init.connect
def declare_parking_lot(sender=None, **kwargs) -> None:
    from hayon import topology

    if app.conf.broker_url.startswith(("amqp", "pyamqp")):
        with app.connection_for_write() as connection:
            topology.declare_parking_lot(connection)


def hook_worker_heartbeat(app: Celery) -> None:
    """Let `python -m hayon.health heartbeat worker` see that the worker consumes.

    Beat's heartbeat comes from its scheduler class, CELERY_BEAT_SCHEDULER in the settings.
    """
    from hayon.health import WorkerHeartbeat

    app.steps["consumer"].add(WorkerHeartbeat)


hook_worker_heartbeat(app)
app.autodiscover_tasks()

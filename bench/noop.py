"""A Celery task that does nothing, on Hayon's own app: the broker's and worker's ceiling.

`celery -A bench.noop worker` runs Hayon's app (same broker, queues, acks and prefetch) with
this task added; it is routed like every maintenance task, to a quorum queue.
"""

from hayon.celery import app

__all__ = ["app", "noop"]


@app.task(name="bench.noop", acks_late=True, ignore_result=True)
def noop(number: int) -> None:
    return None

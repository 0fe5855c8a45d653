"""Pick the message broker when none is configured.

A laptop with nothing but Python should still run Hayon, so with no `CELERY_BROKER_URL` we use
the local RabbitMQ when it answers and otherwise Kombu's file transport under the data folder.
The file broker has no native delayed delivery, no dead-lettering (so no parking-lot queue),
no publisher confirms and a single machine only: it is for trying Hayon out, not for running it.
What that mode does instead is described in docs/operations.md ("Laptop mode").
"""

import logging
import socket
from pathlib import Path
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

LOCAL_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def rabbitmq_answers(url: str, timeout: float = 0.5) -> bool:
    """Return whether something accepts TCP connections at the broker URL's host and port."""
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or 5672), timeout
        ):
            return True
    except OSError:
        return False


def is_file_broker(url: str) -> bool:
    """Return whether the broker URL is Kombu's file transport."""
    return url.startswith("filesystem")


def choose_broker_url(configured: str, data_dir: Path, local_url: str = LOCAL_RABBITMQ_URL) -> str:
    """Return the configured broker URL, the local RabbitMQ, or a file broker as a last resort."""
    if configured:
        return configured

    if rabbitmq_answers(local_url):
        return local_url

    local = urlsplit(local_url)
    logger.warning(
        "No CELERY_BROKER_URL set and no RabbitMQ on %s:%s: using the file broker in %s. It "
        "has no delayed delivery, no parking lot and serves one machine only; set "
        "CELERY_BROKER_URL to a RabbitMQ for anything beyond a trial.",
        local.hostname,
        local.port or 5672,
        data_dir / "broker",
    )
    return "filesystem://"


def file_broker_options(data_dir: Path) -> dict[str, str]:
    """Return Kombu transport options that keep the file broker's messages under data_dir.

    The control folder holds the exchange bindings that every process must share (Kombu
    defaults it to `control` in the current directory).
    """
    folder = data_dir / "broker"
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)

    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }

"""HAYON_LOG_FORMAT=json: one JSON object per line, ids as fields, in the worker too."""

import io
import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter

from hayon.celery import app as celery_app
from hayon.logging import IdFields
from tests.conftest import ARTIFACTS, wait_for
from tests.support.rabbitmq import VirtualHost
from tests.support.worker import WorkerProcess


def log_as_json(message: str, *args) -> dict:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(IdFields())
    logger = logging.getLogger("tests.json_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
    return json.loads(stream.getvalue())


def test_it_lifts_the_ids_of_a_delivery_line_into_fields():
    line = log_as_json(
        "delivery will retry post=%s delivery=%s platform=%s attempt=%s in=%.1fs reason=%s",
        12,
        34,
        "tumblr",
        2,
        30.0,
        "Tumblr could not be reached",
    )

    assert line["message"].startswith("delivery will retry post=12 delivery=34")
    assert (line["post"], line["delivery"], line["platform"], line["attempt"]) == (
        12,
        34,
        "tumblr",
        2,
    )
    assert line["levelname"] == "WARNING"


def test_it_lifts_only_ids_never_other_values():
    line = log_as_json("refreshing account=%s access_token=%s", 7, "secret-token")

    assert line["account"] == 7
    assert "access_token" not in line


def test_a_line_without_ids_stays_as_it_was():
    line = log_as_json("health check failing: %s", {"broker": "refused"})

    assert set(line) == {"asctime", "levelname", "name", "message"}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_worker_in_json_mode_writes_every_log_record_as_json(worker_env):
    vhost = VirtualHost().create()
    env = {**worker_env, "CELERY_BROKER_URL": vhost.url, "HAYON_LOG_FORMAT": "json"}
    log_path = ARTIFACTS / "logs" / "json-worker.log"
    log_path.unlink(missing_ok=True)
    worker = WorkerProcess(env, log_path, concurrency=1)
    try:
        worker.start()
        with celery_app.connection_for_write(vhost.url) as connection:
            celery_app.send_task("posts.dispatch_due", connection=connection)
        wait_for(lambda: "succeeded in" in log_path.read_text())
    finally:
        worker.stop()
        vhost.delete()

    text = log_path.read_text()
    # Celery prints its banner before logging starts and its shutdown notice with print();
    # every log record in between is one JSON object.
    lines = [line for line in text[text.index("\n{") :].splitlines() if line]
    printed = [line for line in lines if not line.startswith("{")]
    assert all(line.startswith("worker: ") for line in printed), printed
    records = [json.loads(line) for line in lines if line.startswith("{")]
    names = {record["name"] for record in records}
    assert "celery.apps.worker" in names
    assert any(r["message"].startswith("Task posts.dispatch_due") for r in records)

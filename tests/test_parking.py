"""The parking lot when the broker is away: a person's retry still stands."""

import socket

import pytest

from hayon.celery import app as celery_app
from posts.models import Delivery, DeliveryStatus
from tests.support.api import account_for, create_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down():
    """Point this process's producer at a port where nothing listens, then put it back."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    previous = celery_app.conf.broker_url, celery_app.conf.broker_connection_timeout
    celery_app.pool.force_close_all()
    celery_app.conf.broker_url = f"amqp://guest:guest@127.0.0.1:{closed_port}//"
    celery_app.conf.broker_connection_timeout = 2
    try:
        yield
    finally:
        celery_app.pool.force_close_all()
        celery_app.conf.broker_url, celery_app.conf.broker_connection_timeout = previous


def test_a_parked_delivery_is_retried_from_the_database_when_the_broker_is_down(
    alice_api, alice, broker_down, caplog
):
    account = account_for(alice)
    post = create_post(alice_api, [account], draft=True)
    delivery_id = post["deliveries"][0]["id"]
    Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.PARKED)

    response = alice_api.post(f"/api/posts/{post['id']}/deliveries/{delivery_id}/retry/")

    assert response.status_code == 200, response.json()
    assert Delivery.objects.get(pk=delivery_id).status == DeliveryStatus.PENDING
    assert "parking lot unreachable" in caplog.text

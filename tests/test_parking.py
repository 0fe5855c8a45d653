"""The parking lot when the broker is away: a person's retry still stands."""

import socket

import pytest
from kombu import Connection

from hayon.celery import app as celery_app
from posts.models import Delivery, DeliveryStatus
from tests.support.api import account_for, create_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down(monkeypatch):
    """Give the parking lot a broker address where nothing listens.

    Only the connection the parking lot opens is pointed there: the app's shared producer
    pool keeps its own, so later tests still reach the real broker.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]

    address = f"amqp://guest:guest@127.0.0.1:{closed_port}//"
    monkeypatch.setattr(
        celery_app, "connection_for_write", lambda: Connection(address, connect_timeout=2)
    )


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

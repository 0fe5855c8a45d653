"""The publishing worker's rules, run in this process against the real local PDS."""

from datetime import timedelta

import pytest
from django.utils import timezone

from platforms.services import connect_account
from posts import publishing
from posts.dispatch import dispatch_due
from posts.models import Delivery
from posts.services import PostInput, create_post
from tests.support.bluesky import records_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(alice, pds):
    login = pds.create_account("inproc")
    account, _ = connect_account(
        alice,
        "bluesky",
        {"handle": login.handle, "app_password": login.password, "service_url": pds.url},
    )
    account.login = login
    return account


def queued_delivery(alice, account, text: str) -> Delivery:
    post, _ = create_post(alice, PostInput(text=text, accounts=[account.pk]))
    delivery = post.deliveries.get()
    # No commit happens in this test, so no message is sent: mark it queued by hand.
    Delivery.objects.filter(pk=delivery.pk).update(status="queued")
    delivery.refresh_from_db()
    return delivery


def test_a_failure_after_publishing_neither_repeats_nor_loses_the_post(
    alice, account, pds, monkeypatch
):
    delivery = queued_delivery(alice, account, "Published, status late")
    calls = {"n": 0}
    real = publishing.refresh_post_status

    def fails_after_claim(post_id):
        calls["n"] += 1
        if calls["n"] > 1:
            raise RuntimeError("status aggregation is down")
        return real(post_id)

    monkeypatch.setattr(publishing, "refresh_post_status", fails_after_claim)

    outcome = publishing.publish(delivery.pk, delivery.version)

    assert outcome is publishing.Outcome.PUBLISHED
    delivery.refresh_from_db()
    assert delivery.status == "published"
    assert delivery.remote_url
    assert delivery.post.status == "PROCESSING"
    assert publishing.publish(delivery.pk, delivery.version) is publishing.Outcome.SKIPPED
    assert records_with(pds.url, account.login, "Published, status late") == 1

    monkeypatch.undo()
    assert dispatch_due()["repaired"] == 1
    delivery.post.refresh_from_db()
    assert delivery.post.status == "COMPLETED"


def test_a_delivery_stuck_in_publishing_is_reconciled_not_repeated(alice, account, pds, settings):
    delivery = queued_delivery(alice, account, "Stuck, then found")
    assert publishing.publish(delivery.pk, delivery.version) is publishing.Outcome.PUBLISHED
    # As if the worker died after the platform answered and before it could record it.
    Delivery.objects.filter(pk=delivery.pk).update(
        status="publishing", updated_at=timezone.now() - timedelta(hours=1)
    )
    settings.HAYON_STUCK_AFTER = 60

    assert dispatch_due()["recovered"] == 1
    delivery.refresh_from_db()
    assert delivery.status == "queued"
    assert delivery.needs_reconcile

    assert publishing.publish(delivery.pk, delivery.version) is publishing.Outcome.PUBLISHED
    delivery.refresh_from_db()
    assert delivery.attempts.order_by("-number").first().outcome == "reconciled"
    assert records_with(pds.url, account.login, "Stuck, then found") == 1


def test_a_stale_message_is_skipped(alice, account):
    delivery = queued_delivery(alice, account, "Old news")

    outcome = publishing.publish(delivery.pk, delivery.version - 1)

    assert outcome is publishing.Outcome.SKIPPED
    delivery.refresh_from_db()
    assert delivery.attempt_count == 0


def test_it_stamps_the_delivery_when_it_is_published(alice, account):
    delivery = queued_delivery(alice, account, "Stamped when it went out")

    publishing.publish(delivery.pk, delivery.version)

    delivery.refresh_from_db()
    assert delivery.status == "published"
    assert delivery.updated_at >= delivery.published_at

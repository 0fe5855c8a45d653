"""An administrator replays a parked delivery from Django admin; the worker publishes it."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from posts.models import Delivery, DeliveryStatus
from posts.services import PostInput, create_post
from posts.status import refresh_post_status
from tests.conftest import wait_for
from tests.e2e.conftest import screenshot, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def parked(alice, bluesky_account) -> Delivery:
    """Alice's post whose delivery ran out of retries (parked by hand for the test)."""
    later = (timezone.now() + timedelta(days=2)).isoformat()
    post, _ = create_post(
        alice,
        PostInput(text="Back after the outage", accounts=[bluesky_account.pk], scheduled_at=later),
    )
    delivery = post.deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PARKED,
        attempt_count=4,
        error_code="transient",
        error_message="The Bluesky server answered 502 four times.",
    )
    refresh_post_status(post.pk)
    return delivery


def test_an_admin_replays_a_parked_delivery_and_it_gets_published(
    page, django_user_model, parked, worker
):
    django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")

    sign_in(page, "root", "root-password-1")
    page.goto("/admin/")
    page.get_by_role("link", name="Parked and unconfirmed deliveries").click()
    row = page.locator("#result_list tbody tr", has_text="Back after the outage")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Parked")
    screenshot(page, "admin-parking-lot")

    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("replay")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Delivery {parked.pk} sent again")

    def published():
        """the replayed delivery is published"""
        return Delivery.objects.get(pk=parked.pk).status == DeliveryStatus.PUBLISHED

    wait_for(published, timeout=60)
    delivery = Delivery.objects.get(pk=parked.pk)
    assert delivery.remote_url
    assert delivery.attempt_count == 5

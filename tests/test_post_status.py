import pytest

from posts.models import PostStatus
from posts.status import derive_status


def derive(*deliveries, scheduled=False, draft=False):
    return derive_status(is_draft=draft, scheduled=scheduled, deliveries=deliveries)


@pytest.mark.parametrize(
    ("deliveries", "scheduled", "expected"),
    [
        ([("queued", 0), ("pending", 0)], False, PostStatus.PENDING),
        ([("pending", 0), ("pending", 0)], True, PostStatus.SCHEDULED),
        ([("publishing", 1), ("queued", 0)], False, PostStatus.PROCESSING),
        ([("retrying", 1), ("published", 1)], True, PostStatus.PROCESSING),
        ([("published", 1), ("published", 2)], False, PostStatus.COMPLETED),
        ([("published", 1), ("failed", 1)], False, PostStatus.PARTIAL_SUCCESS),
        ([("published", 1), ("parked", 4)], False, PostStatus.PARTIAL_SUCCESS),
        ([("failed", 1), ("unconfirmed", 1)], False, PostStatus.FAILED),
        ([("cancelled", 0), ("cancelled", 0)], True, PostStatus.CANCELLED),
        ([("cancelled", 0), ("published", 1)], False, PostStatus.COMPLETED),
        ([("queued", 2)], False, PostStatus.PROCESSING),
    ],
)
def test_it_derives_the_post_status_from_its_deliveries(deliveries, scheduled, expected):
    assert derive(*deliveries, scheduled=scheduled) == expected


def test_a_draft_stays_a_draft_whatever_its_deliveries():
    assert derive(("published", 1), draft=True) == PostStatus.DRAFT

"""The one place a post's status comes from: the statuses of its deliveries."""

from collections.abc import Iterable

from posts.models import DeliveryStatus, Post, PostStatus

MOVING = {DeliveryStatus.PUBLISHING, DeliveryStatus.RETRYING}
NOT_STARTED = {DeliveryStatus.PENDING, DeliveryStatus.QUEUED}


def derive_status(
    *, is_draft: bool, scheduled: bool, deliveries: Iterable[tuple[str, int]]
) -> PostStatus:
    """Return the post status for deliveries given as (status, attempt_count) pairs.

    Before any delivery starts: PENDING (post now) or SCHEDULED. While any is still moving:
    PROCESSING. At the end: all published COMPLETED, some PARTIAL_SUCCESS, none FAILED.
    Cancelled deliveries do not count, unless all are cancelled: CANCELLED.
    """
    if is_draft:
        return PostStatus.DRAFT

    live = [(s, attempts) for s, attempts in deliveries if s != DeliveryStatus.CANCELLED]
    if not live:
        return PostStatus.CANCELLED

    if all(status in NOT_STARTED and attempts == 0 for status, attempts in live):
        return PostStatus.SCHEDULED if scheduled else PostStatus.PENDING

    if any(status in MOVING or status in NOT_STARTED for status, _ in live):
        return PostStatus.PROCESSING

    published = sum(1 for status, _ in live if status == DeliveryStatus.PUBLISHED)
    if published == len(live):
        return PostStatus.COMPLETED
    if published:
        return PostStatus.PARTIAL_SUCCESS
    return PostStatus.FAILED


def refresh_post_status(post_id: int) -> PostStatus:
    """Recompute and store a post's status from its deliveries; return it."""
    # One query: the post's flags on every row of its deliveries (one row of NULLs if none).
    rows = list(
        Post.objects.filter(pk=post_id)
        .order_by()
        .values_list(
            "is_draft",
            "scheduled_at",
            "status",
            "deliveries__status",
            "deliveries__attempt_count",
        )
    )
    if not rows:
        raise Post.DoesNotExist(f"post {post_id} does not exist")

    is_draft, scheduled_at, current, _, _ = rows[0]
    pairs = [(status, attempts) for *_, status, attempts in rows if status is not None]
    status = derive_status(is_draft=is_draft, scheduled=scheduled_at is not None, deliveries=pairs)

    if status != current:
        Post.objects.filter(pk=post_id).update(status=status)

    return status

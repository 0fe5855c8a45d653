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
    post = Post.objects.only("id", "is_draft", "scheduled_at", "status").get(pk=post_id)
    pairs = post.deliveries.values_list("status", "attempt_count")
    status = derive_status(
        is_draft=post.is_draft, scheduled=post.scheduled_at is not None, deliveries=pairs
    )

    if status != post.status:
        Post.objects.filter(pk=post_id).update(status=status)

    return status

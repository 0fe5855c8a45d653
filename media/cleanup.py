"""Removing what no row needs: abandoned uploads, and copies left by rolled-back posts.

attach_to_post copies an upload under posts/ inside the post's transaction; when that
transaction rolls back the copy stays, unreferenced. Objects are only removed once they are
older than a grace period, so a copy whose transaction is still open is never taken.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from media.models import Media, MediaBackend, MediaStatus
from media.storage import StorageError, get_backend

logger = logging.getLogger(__name__)

GRACE = timedelta(hours=1)
ABANDONED_AFTER = timedelta(days=1)


@dataclass
class CleanupReport:
    abandoned_rows: int = 0
    orphaned_objects: int = 0


def remove_abandoned_uploads(now=None) -> int:
    """Delete media rows signed over a day ago that no post used, and their objects."""
    now = now or timezone.now()
    stale = Media.objects.filter(
        status=MediaStatus.AWAITING_UPLOAD, created_at__lt=now - ABANDONED_AFTER
    )
    count = 0
    for media in stale.iterator():
        try:
            get_backend(media.backend).delete(media.key)
        except StorageError:
            logger.warning("abandoned upload kept media=%s key=%s", media.pk, media.key)
            continue
        media.delete()
        count += 1
    return count


def stem(key: str) -> str:
    """Return `posts/<owner>/<post>/<uuid>` of an original, a thumbnail or a variant."""
    folder, _, name = key.rpartition("/")
    return f"{folder}/{name.split('.', 1)[0]}"


def referenced_stems(backend: str) -> set[str]:
    keys = Media.objects.filter(backend=backend).values_list("key", flat=True)
    return {stem(key) for key in keys.iterator()}


def remove_orphans(backend_name: str, now=None) -> int:
    """Delete objects under posts/ that belong to no media row and are past the grace.

    An object belongs to a row when it is the row's image, thumbnail or a prepared variant
    (media/variants.py): they share `posts/<owner>/<post>/<uuid>`.
    """
    now = now or timezone.now()
    backend = get_backend(backend_name)
    known = referenced_stems(backend_name)

    removed = 0
    for key, modified in backend.list("posts/"):
        if stem(key) in known or modified > now - GRACE:
            continue
        backend.delete(key)
        logger.info("orphaned media object removed key=%s backend=%s", key, backend_name)
        removed += 1
    return removed


def clean_up(backends: list[str] | None = None) -> CleanupReport:
    report = CleanupReport(abandoned_rows=remove_abandoned_uploads())
    for name in backends or [MediaBackend.LOCAL, MediaBackend.S3]:
        try:
            report.orphaned_objects += remove_orphans(name)
        except StorageError as exc:
            logger.warning("media cleanup skipped backend=%s: %s", name, exc)
    return report

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


def referenced_keys(backend: str) -> set[str]:
    keys = set()
    rows = Media.objects.filter(backend=backend).values_list("key", "thumbnail_key")
    for key, thumbnail in rows.iterator():
        keys.update(k for k in (key, thumbnail) if k)
    return keys


def remove_orphans(backend_name: str, now=None) -> int:
    """Delete objects under posts/ that no media row names and that are past the grace."""
    now = now or timezone.now()
    backend = get_backend(backend_name)
    known = referenced_keys(backend_name)

    removed = 0
    for key, modified in backend.list("posts/"):
        if key in known or modified > now - GRACE:
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

"""Prepared copies for platforms that fetch media from a URL themselves (Meta's APIs).

A platform that takes bytes gets them from media/prepare.py directly. One that fetches a URL
needs the prepared bytes stored somewhere it can reach: they are saved beside the original as
`posts/<owner>/<post>/<uuid>.<variant>.<ext>`, once, and every attempt reuses them.
"""

import logging
from collections.abc import Callable
from typing import Protocol

from media import prepare
from media.images import EXTENSIONS
from media.models import Media
from media.storage import backend_of

logger = logging.getLogger(__name__)


class FetchableMedia(Protocol):
    """What platforms.base.MediaItem offers (media does not import platforms)."""

    media_id: int
    url: str

    def read(self) -> bytes: ...


def prepared_url(
    item: FetchableMedia, variant: str, prepare_for: Callable[[bytes], prepare.PreparedImage]
) -> str:
    """Return a URL of the image as `prepare_for` makes it; the item's own URL if unchanged.

    Raise prepare.CannotPrepare or media.images.NotAnImage as `prepare_for` does, and
    media.storage.StorageError when the storage cannot be read or written.
    """
    original = item.read()
    prepared = prepare_for(original)
    if prepared.data == original:
        return item.url

    media = Media.objects.get(pk=item.media_id)
    backend = backend_of(media)
    stem = media.key.rsplit(".", 1)[0]
    key = f"{stem}.{variant}.{EXTENSIONS[prepared.content_type]}"
    if backend.head(key) is None:
        backend.save(key, prepared.data, prepared.content_type)
        logger.info("media variant stored media=%s variant=%s key=%s", media.pk, variant, key)

    return backend.fetch_url(key)


def instagram_url(item: FetchableMedia) -> str:
    """Return a URL of a JPEG Instagram accepts (see prepare.for_instagram)."""
    return prepared_url(item, "instagram", prepare.for_instagram)

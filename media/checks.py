"""The checks an upload must pass before a post may use it. Nothing the client said is trusted.

S3-compatible stores (and moto in tests) do not enforce a presigned URL's content type or a
size range, and a presigned PUT can be repeated until it expires, so the object is checked
where it lies: it exists, its size is the declared one and within the limit, its stored type
and the type read from its bytes are the declared one. The ETag seen here pins the copy.
"""

from dataclasses import dataclass

from django.conf import settings

from media.images import NotAnImage, inspect_image
from media.models import Media, MediaStatus
from media.storage import Backend, StorageError


@dataclass
class MediaProblem(Exception):
    code: str
    message: str


def check_upload(media: Media, backend: Backend) -> bytes:
    """Check the uploaded object behind `media`; record its size, etag and pixel size on it.

    Return the object's bytes; raise MediaProblem saying what is wrong.
    """
    name = f"media {media.pk}"
    if media.status == MediaStatus.READY:
        raise MediaProblem(
            "media_in_use", f"{name} is already used by a post; upload the image again"
        )

    try:
        stored = backend.head(media.key)
    except StorageError as exc:
        raise MediaProblem("storage_unavailable", f"{name} could not be checked: {exc}") from exc
    if stored is None:
        raise MediaProblem(
            "upload_missing", f"{name} was never uploaded, or its upload has expired"
        )

    limit = settings.HAYON_MEDIA_MAX_BYTES
    if stored.size > limit:
        raise MediaProblem(
            "media_too_large", f"{name} is {stored.size} bytes; the limit is {limit} bytes"
        )
    if stored.size != media.size:
        raise MediaProblem(
            "media_size_mismatch",
            f"{name} is {stored.size} bytes but {media.size} bytes were declared",
        )
    if stored.content_type is not None and stored.content_type != media.content_type:
        raise MediaProblem(
            "media_type_mismatch",
            f"{name} was stored as {stored.content_type}, not the declared {media.content_type}",
        )

    data = backend.read(media.key)
    try:
        facts = inspect_image(data)
    except NotAnImage as exc:
        raise MediaProblem("media_not_an_image", f"{name} is not a readable image") from exc
    if facts.content_type != media.content_type:
        raise MediaProblem(
            "media_type_mismatch",
            f"{name} was declared {media.content_type} but its bytes are {facts.content_type}",
        )

    media.width, media.height, media.etag = facts.width, facts.height, stored.etag
    return data

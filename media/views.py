"""The local backend's two URLs: the signed upload a browser PUTs to, and signed file reads.

They stand in for S3's presigned PUT and GET on a machine without a bucket. The token in the
path is the whole authorisation (like a presigned URL), so there is no session and no CSRF.
"""

import logging
import mimetypes

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from media.models import Media, MediaBackend, MediaStatus
from media.storage import FETCH_SALT, UPLOAD_SALT, StorageError, local_backend

logger = logging.getLogger(__name__)

CHUNK = 256 * 1024


def refuse(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain")


def body_chunks(request: HttpRequest, limit: int):
    """Yield the request body in chunks; raise ValueError past `limit` bytes."""
    seen = 0
    while chunk := request.read(CHUNK):
        seen += len(chunk)
        if seen > limit:
            raise ValueError(f"more than {limit} bytes")
        yield chunk


@csrf_exempt
@require_http_methods(["PUT"])
def local_upload(request: HttpRequest, token: str) -> HttpResponse:
    try:
        signed = signing.loads(token, salt=UPLOAD_SALT, max_age=settings.HAYON_MEDIA_UPLOAD_TTL)
    except signing.SignatureExpired:
        return refuse(403, "This upload URL has expired; ask for a new one.")
    except signing.BadSignature:
        return refuse(403, "This upload URL is not valid.")

    media = Media.objects.filter(
        uuid=signed["media"], key=signed["key"], backend=MediaBackend.LOCAL
    ).first()
    if media is None or media.status != MediaStatus.AWAITING_UPLOAD:
        return refuse(403, "This upload URL is no longer in use.")
    if request.content_type != signed["type"]:
        # S3 refuses a presigned PUT whose Content-Type differs from the signed one; so do we.
        return refuse(403, f"Send Content-Type: {signed['type']}.")

    try:
        size = local_backend().write_chunks(
            media.key, body_chunks(request, settings.HAYON_MEDIA_MAX_BYTES)
        )
    except ValueError:
        return refuse(413, f"Uploads are limited to {settings.HAYON_MEDIA_MAX_BYTES} bytes.")

    logger.info(
        "media uploaded media=%s owner=%s bytes=%s backend=local", media.pk, media.owner_id, size
    )
    return HttpResponse(status=200)


@require_GET
def local_file(request: HttpRequest, token: str) -> FileResponse:
    try:
        key = signing.loads(token, salt=FETCH_SALT, max_age=settings.HAYON_MEDIA_FETCH_TTL)
    except signing.BadSignature as exc:
        raise Http404("no such media") from exc

    try:
        path = local_backend().path(key)
    except StorageError as exc:
        raise Http404("no such media") from exc
    if not path.is_file():
        raise Http404("no such media")

    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path.open("rb"), content_type=content_type)

"""Shapes of the media API (media/api.py)."""

from rest_framework import serializers

from hayon.serializers import StrictFields
from media.models import Media, MediaStatus
from media.storage import backend_of
from posts.serializers import id_field


def media_urls(media: Media) -> dict[str, str | None]:
    """Return URLs to show a stored image and its thumbnail (None until a post uses it)."""
    if media.status != MediaStatus.READY:
        return {"url": None, "thumbnail_url": None}

    backend = backend_of(media)
    return {
        "url": backend.fetch_url(media.key),
        "thumbnail_url": backend.fetch_url(media.thumbnail_key) if media.thumbnail_key else None,
    }


class UploadRequestSerializer(StrictFields, serializers.Serializer):
    filename = serializers.CharField(max_length=255, help_text="Shown to people; not trusted.")
    content_type = serializers.CharField(max_length=100, help_text="e.g. image/jpeg")
    size = serializers.IntegerField(min_value=1, help_text="Bytes the client will send.")
    accounts = serializers.ListField(
        child=id_field("An account id from GET /api/accounts/."),
        required=False,
        max_length=100,
        help_text="Ids of the accounts the image is for. When given, a type or size that none "
        "of their platforms takes is refused now, naming each account's limit; when left out "
        "or empty, only what no platform takes is refused.",
    )


class UploadTargetSerializer(serializers.Serializer):
    media_id = serializers.IntegerField(
        help_text="The id to put in a post's `media` once the bytes are uploaded."
    )
    upload_url = serializers.URLField(
        help_text="Where to send the bytes: the bucket itself, or Hayon's local backend."
    )
    method = serializers.CharField(help_text="Send the raw bytes with this method.")
    headers = serializers.DictField(
        child=serializers.CharField(), help_text="Send exactly these headers with the bytes."
    )
    expires_at = serializers.DateTimeField(
        help_text="The upload URL is refused after this instant (HAYON_MEDIA_UPLOAD_TTL)."
    )


class MediaSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(
        help_text="A URL to show the stored image; null until a post uses it."
    )
    thumbnail_url = serializers.SerializerMethodField(
        help_text="A URL to a small version of the image; null until a post uses it."
    )

    class Meta:
        model = Media
        fields = [
            "id",
            "status",
            "filename",
            "content_type",
            "size",
            "width",
            "height",
            "alt",
            "url",
            "thumbnail_url",
            "upload_expires_at",
            "created_at",
        ]
        extra_kwargs = {
            "id": {"help_text": "The media id posts refer to."},
            "status": {
                "help_text": "awaiting_upload until a post uses it and it passes the checks, "
                "then ready."
            },
            "filename": {"help_text": "The name the client gave when signing; not trusted."},
            "content_type": {"help_text": "The declared type, checked against the bytes."},
            "size": {"help_text": "Bytes: declared at signing, verified after upload."},
            "width": {"help_text": "Pixels, read from the image once checked; null before."},
            "height": {"help_text": "Pixels, read from the image once checked; null before."},
            "alt": {"help_text": "Alt text, sent to every platform that takes it."},
            "upload_expires_at": {"help_text": "When the signed upload URL stops working."},
            "created_at": {"help_text": "When the upload was signed."},
        }

    def get_url(self, media: Media) -> str | None:
        return media_urls(media)["url"]

    def get_thumbnail_url(self, media: Media) -> str | None:
        return media_urls(media)["thumbnail_url"]

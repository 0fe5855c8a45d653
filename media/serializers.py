"""Shapes of the media API (media/api.py)."""

from rest_framework import serializers

from media.models import Media, MediaStatus
from media.storage import backend_of


def media_urls(media: Media) -> dict[str, str | None]:
    """Return URLs to show a stored image and its thumbnail (None until a post uses it)."""
    if media.status != MediaStatus.READY:
        return {"url": None, "thumbnail_url": None}

    backend = backend_of(media)
    return {
        "url": backend.fetch_url(media.key),
        "thumbnail_url": backend.fetch_url(media.thumbnail_key) if media.thumbnail_key else None,
    }


class UploadRequestSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=255, help_text="Shown to people; not trusted.")
    content_type = serializers.CharField(max_length=100, help_text="e.g. image/jpeg")
    size = serializers.IntegerField(min_value=1, help_text="Bytes the client will send.")


class UploadTargetSerializer(serializers.Serializer):
    media_id = serializers.IntegerField()
    upload_url = serializers.URLField()
    method = serializers.CharField(help_text="Send the raw bytes with this method.")
    headers = serializers.DictField(
        child=serializers.CharField(), help_text="Send exactly these headers with the bytes."
    )
    expires_at = serializers.DateTimeField()


class MediaSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

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

    def get_url(self, media: Media) -> str | None:
        return media_urls(media)["url"]

    def get_thumbnail_url(self, media: Media) -> str | None:
        return media_urls(media)["thumbnail_url"]

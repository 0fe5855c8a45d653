from rest_framework import serializers

from media.services import MediaChoice
from posts.models import Attempt, Delivery, Post
from posts.services import PostInput


class PlatformContentSerializer(serializers.Serializer):
    text = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text="Text for this account only."
    )


class MediaChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="A media id from POST /api/posts/media/upload/.")
    alt = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Alt text for this image."
    )


class PostInputSerializer(serializers.Serializer):
    """The body of POST /api/posts/ and POST /api/posts/validate/."""

    text = serializers.CharField(
        allow_blank=True, trim_whitespace=False, max_length=100_000, help_text="The post's text."
    )
    accounts = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the accounts to publish to."
    )
    platform_content = serializers.DictField(
        child=PlatformContentSerializer(),
        required=False,
        default=dict,
        help_text='Per account id, a text override: {"12": {"text": "..."}}.',
    )
    media = MediaChoiceSerializer(many=True, required=False, default=list)
    scheduled_at = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="ISO 8601 with offset; or a local date-time with `timezone`. Empty: post now.",
    )
    timezone = serializers.CharField(
        required=False, allow_blank=True, help_text="IANA zone the time is written in."
    )
    visibility = serializers.ChoiceField(
        choices=["public", "unlisted", "private", "direct"],
        required=False,
        help_text="Mastodon visibility.",
    )
    spoiler_text = serializers.CharField(
        required=False, allow_blank=True, help_text="Mastodon content warning."
    )
    langs = serializers.ListField(
        child=serializers.CharField(max_length=16),
        required=False,
        max_length=3,
        help_text="BCP-47 language codes (Bluesky takes up to 3).",
    )
    draft = serializers.BooleanField(required=False, default=False)

    def to_input(self) -> PostInput:
        data = self.validated_data
        options = {k: data[k] for k in ("visibility", "spoiler_text", "langs") if k in data}
        return PostInput(
            text=data["text"],
            accounts=list(dict.fromkeys(data["accounts"])),
            platform_content={str(k): v for k, v in data.get("platform_content", {}).items()},
            media=[MediaChoice(m["id"], m.get("alt", "")) for m in data.get("media", [])],
            scheduled_at=data.get("scheduled_at") or None,
            timezone=data.get("timezone") or None,
            options=options,
            draft=data.get("draft", False),
        )


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attempt
        fields = [
            "number",
            "started_at",
            "finished_at",
            "outcome",
            "http_status",
            "error_code",
            "error_message",
            "retry_at",
        ]


class DeliverySerializer(serializers.ModelSerializer):
    attempts = serializers.IntegerField(source="attempt_count", read_only=True)
    handle = serializers.CharField(source="account.handle", read_only=True)
    error = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "account",
            "handle",
            "platform",
            "status",
            "attempts",
            "next_attempt_at",
            "remote_id",
            "remote_url",
            "error",
            "text",
            "published_at",
            "updated_at",
        ]

    def get_error(self, delivery: Delivery) -> dict | None:
        if not delivery.error_message:
            return None
        return {"code": delivery.error_code, "message": delivery.error_message}


class DeliveryDetailSerializer(DeliverySerializer):
    attempt_log = AttemptSerializer(source="attempts", many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "attempt_log"]


class PostSerializer(serializers.ModelSerializer):
    deliveries = DeliverySerializer(many=True, read_only=True)
    media = serializers.SerializerMethodField()

    class Meta:
        model = Post
        fields = [
            "id",
            "text",
            "status",
            "scheduled_at",
            "timezone",
            "options",
            "media",
            "deliveries",
            "created_at",
            "updated_at",
        ]

    def get_media(self, post: Post) -> list[dict]:
        from media.serializers import media_urls

        return [
            {
                "id": item.media_id,
                "content_type": item.media.content_type,
                "size": item.media.size,
                "width": item.media.width,
                "height": item.media.height,
                "alt": item.media.alt,
                # Signed for HAYON_MEDIA_FETCH_TTL (or public-bucket) URLs: image and thumbnail.
                **media_urls(item.media),
            }
            # .all() uses the viewset's prefetch of post_media__media.
            for item in post.post_media.all()
        ]


class PostStatusSerializer(serializers.ModelSerializer):
    deliveries = DeliverySerializer(many=True, read_only=True)

    class Meta:
        model = Post
        fields = ["id", "status", "scheduled_at", "deliveries"]


class RescheduleSerializer(serializers.Serializer):
    scheduled_at = serializers.CharField(help_text="ISO 8601 with offset, or local with timezone.")
    timezone = serializers.CharField(required=False, allow_blank=True)

"""Bodies of the posts API: what clients send and what they get back."""

import re

import langcodes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hayon.api_errors import ProblemSerializer
from hayon.serializers import IdField, StrictFields, TextField
from media.services import MediaChoice
from posts import editing
from posts.editing import PostChange
from posts.models import Attempt, Delivery, Post
from posts.services import PostInput

# The largest id PostgreSQL's bigint holds: a larger one can only be a typo or a probe.
MAX_ID = 2**63 - 1
ACCOUNT_KEY = re.compile(r"^[0-9]+$")


def id_field(help_text: str, **kwargs) -> serializers.IntegerField:
    return IdField(min_value=1, max_value=MAX_ID, help_text=help_text, **kwargs)


class LanguageField(serializers.CharField):
    """A BCP-47 language tag that names real languages (`en`, `pt-BR`), checked now: Bluesky
    refuses a post with a malformed one only when it is sent."""

    default_error_messages = {"invalid_language": "{value!r} is not a BCP-47 language tag."}

    def to_internal_value(self, data) -> str:
        value = super().to_internal_value(data)
        if not langcodes.tag_is_valid(value):
            self.fail("invalid_language", value=value)
        return value


class PlatformContentSerializer(StrictFields, serializers.Serializer):
    text = TextField(
        allow_blank=True,
        trim_whitespace=False,
        max_length=100_000,
        help_text="Text for this account only; empty uses the post's text.",
    )


class MediaChoiceSerializer(StrictFields, serializers.Serializer):
    id = id_field("A media id from POST /api/posts/media/upload/.")
    alt = TextField(
        required=False,
        allow_blank=True,
        default="",
        max_length=5_000,
        help_text="Alt text for this image.",
    )


class PostContentSerializer(StrictFields, serializers.Serializer):
    """Fields shared by creating and editing a post."""

    text = TextField(
        allow_blank=True, trim_whitespace=False, max_length=100_000, help_text="The post's text."
    )
    accounts = serializers.ListField(
        child=id_field("An account id from GET /api/accounts/."),
        max_length=100,
        help_text="Ids of the accounts to publish to.",
    )
    platform_content = serializers.DictField(
        child=PlatformContentSerializer(),
        required=False,
        default=dict,
        help_text='Per account id, a text override: {"12": {"text": "..."}}.',
    )
    media = MediaChoiceSerializer(
        many=True, required=False, default=list, help_text="Images, in order, with alt text."
    )
    visibility = serializers.ChoiceField(
        choices=["public", "unlisted", "private", "direct"],
        required=False,
        help_text="Mastodon visibility.",
    )
    spoiler_text = serializers.CharField(
        required=False, allow_blank=True, max_length=1_000, help_text="Mastodon content warning."
    )
    langs = serializers.ListField(
        child=LanguageField(max_length=35, help_text="A BCP-47 language tag, e.g. `pt-BR`."),
        required=False,
        max_length=3,
        help_text="BCP-47 language codes (Bluesky takes up to 3).",
    )

    def validate_platform_content(self, value: dict) -> dict:
        for key in value:
            if not ACCOUNT_KEY.match(str(key)):
                raise serializers.ValidationError(
                    f"platform_content keys are account ids, not {key!r}", code="invalid_key"
                )
        return value

    def options(self) -> dict:
        data = self.validated_data
        return {k: data[k] for k in ("visibility", "spoiler_text", "langs") if k in data}


class PostInputSerializer(PostContentSerializer):
    """The body of POST /api/posts/ and POST /api/posts/validate/."""

    scheduled_at = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=64,
        help_text="ISO 8601 with offset; or a local date-time with `timezone`. Empty: post now.",
    )
    timezone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="IANA zone the time is written in, e.g. `Europe/Berlin`.",
    )
    draft = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Save as a draft: nothing is sent until POST /api/posts/{id}/publish/.",
    )

    def to_input(self) -> PostInput:
        data = self.validated_data
        return PostInput(
            text=data["text"],
            accounts=list(dict.fromkeys(data["accounts"])),
            platform_content={str(k): v for k, v in data.get("platform_content", {}).items()},
            media=[MediaChoice(m["id"], m.get("alt", "")) for m in data.get("media", [])],
            scheduled_at=data.get("scheduled_at") or None,
            timezone=data.get("timezone") or None,
            options=self.options(),
            draft=data.get("draft", False),
        )


class PostUpdateSerializer(PostContentSerializer):
    """The body of PATCH /api/posts/{id}/: any of the fields; the others stay as they are.

    `accounts` can change on a draft only. The time changes through reschedule.
    """

    unknown_field_hints = {
        name: "The time changes with POST /api/posts/{id}/reschedule/ (or /publish/ for a draft)."
        for name in ("scheduled_at", "timezone")
    } | {"draft": "A draft is sent with POST /api/posts/{id}/publish/."}

    def __init__(self, *args, **kwargs):
        # Partial: absent fields are neither required nor given their defaults.
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)

    def to_change(self) -> PostChange:
        data = self.validated_data
        media = data.get("media")
        overrides = data.get("platform_content")
        return PostChange(
            text=data.get("text"),
            accounts=list(dict.fromkeys(data["accounts"])) if "accounts" in data else None,
            platform_content=(
                {str(k): v for k, v in overrides.items()} if overrides is not None else None
            ),
            media=[MediaChoice(m["id"], m.get("alt", "")) for m in media]
            if media is not None
            else None,
            options=self.options(),
        )


class PublishSerializer(StrictFields, serializers.Serializer):
    scheduled_at = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=64,
        help_text="ISO 8601 with offset, or local with `timezone`. Empty: publish now.",
    )
    timezone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="IANA zone a time without offset is written in; the post keeps its zone "
        "when none is sent.",
    )


class RescheduleSerializer(StrictFields, serializers.Serializer):
    scheduled_at = serializers.CharField(
        max_length=64, help_text="ISO 8601 with offset, or local with `timezone`."
    )
    timezone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="IANA zone a time without offset is written in; the post keeps its zone "
        "when none is sent.",
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
        extra_kwargs = {
            "number": {"help_text": "1 for the first call to the platform, then 2, ..."},
            "started_at": {"help_text": "When the call started."},
            "finished_at": {"help_text": "When it ended; null while it runs."},
            "outcome": {"help_text": "What came of the call."},
            "http_status": {"help_text": "The platform's HTTP status, when there was one."},
            "error_code": {"help_text": "A stable code for the error, if any."},
            "error_message": {"help_text": "The platform's reason, in words."},
            "retry_at": {"help_text": "When the next attempt was scheduled, after this one."},
        }


class DeliveryErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable code: `rate_limited`, `permanent`, ...")
    message = serializers.CharField(help_text="Why the delivery failed or waits, in words.")


class DeliverySerializer(serializers.ModelSerializer):
    attempts = serializers.IntegerField(
        source="attempt_count", read_only=True, help_text="Calls made to the platform so far."
    )
    handle = serializers.CharField(
        source="account.handle", read_only=True, help_text="The account's handle."
    )
    error = serializers.SerializerMethodField(
        help_text="The last error, or null when there is none."
    )
    # Empty until published, so not always a URI.
    remote_url = serializers.CharField(
        read_only=True, help_text="Link to the live post; empty until published."
    )

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
        extra_kwargs = {
            "id": {"help_text": "The delivery's id: this post to one account."},
            "account": {"help_text": "The account id it publishes to."},
            "platform": {"help_text": "The account's platform."},
            "status": {"help_text": "Where this delivery stands."},
            "next_attempt_at": {"help_text": "When it is (next) due; null once finished."},
            "remote_id": {"help_text": "The platform's id of the published post."},
            "text": {"help_text": "Text override for this account; empty uses the post's."},
            "published_at": {"help_text": "When the platform accepted the post."},
            "updated_at": {"help_text": "When the delivery last changed."},
        }

    @extend_schema_field(DeliveryErrorSerializer(allow_null=True))
    def get_error(self, delivery: Delivery) -> dict | None:
        if not delivery.error_message:
            return None
        return {"code": delivery.error_code, "message": delivery.error_message}


class DeliveryDetailSerializer(DeliverySerializer):
    attempt_log = AttemptSerializer(
        source="attempts", many=True, read_only=True, help_text="Every call to the platform."
    )

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "attempt_log"]


class PostMediaSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The media id.")
    content_type = serializers.CharField(help_text="The image's type, e.g. image/jpeg.")
    size = serializers.IntegerField(help_text="Bytes.")
    width = serializers.IntegerField(allow_null=True, help_text="Width in pixels.")
    height = serializers.IntegerField(allow_null=True, help_text="Height in pixels.")
    alt = serializers.CharField(allow_blank=True, help_text="Alt text.")
    url = serializers.CharField(
        allow_null=True, help_text="A signed URL of the image, valid for a limited time."
    )
    thumbnail_url = serializers.CharField(
        allow_null=True, help_text="A signed URL of a small preview, if one was made."
    )


class PostSerializer(serializers.ModelSerializer):
    deliveries = DeliverySerializer(
        many=True, read_only=True, help_text="One per account: status and link."
    )
    # The schema of get_media is declared here, so the method stays the media module's to edit.
    media = extend_schema_field(PostMediaSerializer(many=True))(
        serializers.SerializerMethodField(help_text="Images, in order.")
    )
    editable = serializers.SerializerMethodField(
        help_text="Whether text and media can still change (no delivery has started)."
    )

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
            "editable",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "id": {"help_text": "The post's id."},
            "text": {"help_text": "The post's text."},
            "status": {"help_text": "Derived from the deliveries' statuses."},
            "scheduled_at": {"help_text": "When it publishes (UTC); null: as soon as possible."},
            "created_at": {"help_text": "When the post was created."},
            "updated_at": {"help_text": "When the post last changed."},
        }

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

    def get_editable(self, post: Post) -> bool:
        return editing.is_editable(post, list(post.deliveries.all()))


class PostStatusSerializer(serializers.ModelSerializer):
    deliveries = DeliverySerializer(
        many=True, read_only=True, help_text="One per account: status, attempts, error, link."
    )

    class Meta:
        model = Post
        fields = ["id", "status", "scheduled_at", "deliveries"]
        extra_kwargs = PostSerializer.Meta.extra_kwargs


class AccountReportSerializer(serializers.Serializer):
    account = serializers.IntegerField(help_text="The account id.")
    platform = serializers.CharField(help_text="The account's platform.")
    handle = serializers.CharField(help_text="The account's handle.")
    measured = serializers.IntegerField(help_text="The text's length as this platform counts.")
    limit = serializers.IntegerField(help_text="This platform's (or account's) text limit.")
    unit = serializers.CharField(help_text="What is counted: graphemes, characters, ...")
    ok = serializers.BooleanField(help_text="True when nothing blocks this account.")
    problems = ProblemSerializer(many=True, help_text="Errors and warnings for this account.")


class ValidationReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField(help_text="True when the post can be created as it is.")
    scheduled_at = serializers.DateTimeField(
        allow_null=True, help_text="The instant the time was read as (UTC); null: now."
    )
    schedule_note = serializers.CharField(
        allow_blank=True, help_text="Set when a DST gap or overlap moved the time."
    )
    accounts = AccountReportSerializer(many=True, help_text="What each platform measured.")
    problems = ProblemSerializer(many=True, help_text="Every problem, as creating would list.")


class UnchangedDeliverySerializer(serializers.Serializer):
    delivery = serializers.IntegerField(help_text="The delivery id.")
    status = serializers.CharField(help_text="Its status, which did not allow the change.")


class ChangeSummarySerializer(serializers.Serializer):
    changed = serializers.ListField(
        child=serializers.IntegerField(), help_text="Deliveries cancelled or moved."
    )
    unchanged = UnchangedDeliverySerializer(
        many=True, help_text="Deliveries already started or finished, left as they were."
    )
    post = PostSerializer(help_text="The post after the change.")

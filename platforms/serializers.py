from rest_framework import serializers

from platforms.models import Account


class AccountSerializer(serializers.ModelSerializer):
    """An account as clients see it: never its credentials."""

    class Meta:
        model = Account
        fields = [
            "id",
            "platform",
            "handle",
            "display_name",
            "remote_id",
            "base_url",
            "health",
            "health_reason",
            "token_expires_at",
            "limits",
            "created_at",
        ]
        read_only_fields = fields


class BlueskyConnectSerializer(serializers.Serializer):
    handle = serializers.CharField(max_length=253, help_text="e.g. alice.bsky.social")
    app_password = serializers.CharField(
        max_length=255, write_only=True, help_text="An app password, not the account password."
    )
    service_url = serializers.URLField(
        required=False, help_text="The account's PDS; defaults to HAYON_BLUESKY_SERVICE_URL."
    )

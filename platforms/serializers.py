from rest_framework import serializers

from platforms.models import Account


class AccountSerializer(serializers.ModelSerializer):
    """An account as clients see it: never its credentials."""

    # Empty for platforms with one address, so not always a URI.
    base_url = serializers.CharField(
        read_only=True, help_text="PDS or instance URL; empty where the platform has one."
    )

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
        extra_kwargs = {
            "id": {"help_text": "The account's id, used in a post's `accounts`."},
            "platform": {"help_text": "Which platform the account is on."},
            "display_name": {"help_text": "The account's display name, if the platform has one."},
            "health": {"help_text": "`active`, or why it cannot publish until reconnected."},
            "health_reason": {"help_text": "What went wrong, when health is not `active`."},
            "token_expires_at": {"help_text": "When the access token expires, if known."},
            "created_at": {"help_text": "When the account was connected."},
        }

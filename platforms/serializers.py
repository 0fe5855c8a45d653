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

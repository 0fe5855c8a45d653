from django.utils import timezone
from rest_framework import serializers

from hayon.serializers import StrictFields
from hayon.tokens.models import ApiToken


class ApiTokenSerializer(serializers.ModelSerializer):
    """A named token as its owner sees it in a list: never the key."""

    current = serializers.SerializerMethodField(
        help_text="Whether this request was made with this token."
    )

    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "expires_at", "current"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": "The token's id, used to revoke it."},
            "created_at": {"help_text": "When the token was created."},
            "last_used_at": {"help_text": "Roughly when it last authenticated a request."},
        }

    def get_current(self, token: ApiToken) -> bool:
        request = self.context.get("request")
        return bool(request) and request.auth == token


class NewApiTokenSerializer(ApiTokenSerializer):
    """The answer to creating a token: the only time the key is shown."""

    token = serializers.CharField(
        source="key",
        read_only=True,
        help_text="The key: send it as `Authorization: Token <key>`. It is not shown again.",
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class ApiTokenInputSerializer(StrictFields, serializers.Serializer):
    name = serializers.CharField(
        max_length=100, help_text="What the token is for, e.g. 'backup script'."
    )
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="ISO 8601 with offset; after it the token stops working. Empty: never.",
    )

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("Give the token a name.", code="blank")
        return value.strip()

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("expires_at must be in the future.", code="in_past")
        return value


class PasswordExchangeSerializer(StrictFields, serializers.Serializer):
    username = serializers.CharField(help_text="The user's username.")
    password = serializers.CharField(
        style={"input_type": "password"}, help_text="The user's password."
    )


class LegacyTokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text="The user's single key: send it as `Authorization: Token <key>`."
    )

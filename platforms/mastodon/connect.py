"""Connecting a Mastodon account with an instance URL and an existing access token.

People connect through OAuth instead (platforms/mastodon/oauth.py); both end in the same
account fields.
"""

from rest_framework import serializers

from platforms.mastodon.client import normalize_instance_url
from platforms.registry import get_publisher


class ConnectSerializer(serializers.Serializer):
    instance_url = serializers.CharField(
        max_length=255, help_text="The instance, e.g. https://mastodon.social"
    )
    access_token = serializers.CharField(
        max_length=512,
        write_only=True,
        help_text="A token with the scopes write:statuses write:media read:accounts.",
    )

    def validate_instance_url(self, value: str) -> str:
        url = normalize_instance_url(value)
        if not url.startswith(("https://", "http://")) or "/" in url.split("://", 1)[1]:
            raise serializers.ValidationError("Give the instance's address, e.g. mastodon.social")
        return url


def connect(owner, data: dict) -> dict:
    """Verify the token with the instance and return the account fields to store."""
    return get_publisher("mastodon").connect(data["instance_url"], data["access_token"])

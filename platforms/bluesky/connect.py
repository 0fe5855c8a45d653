"""Connecting a Bluesky account with a handle and an app password."""

from django.conf import settings
from rest_framework import serializers

from platforms.registry import get_publisher


class ConnectSerializer(serializers.Serializer):
    handle = serializers.CharField(max_length=253, help_text="e.g. alice.bsky.social")
    app_password = serializers.CharField(
        max_length=255, write_only=True, help_text="An app password, not the account password."
    )
    service_url = serializers.URLField(
        required=False, help_text="The account's PDS; defaults to HAYON_BLUESKY_SERVICE_URL."
    )


def connect(owner, data: dict) -> dict:
    """Log in once and return the account fields to store (see platforms/services.py)."""
    service = (data.get("service_url") or settings.HAYON_BLUESKY_SERVICE_URL).rstrip("/")
    return get_publisher("bluesky").connect(
        data["handle"].lstrip("@"), data["app_password"], service
    )

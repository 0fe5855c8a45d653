"""Connecting a Threads profile from an existing long-lived token (browser flow: oauth.py)."""

from django.conf import settings
from rest_framework import serializers

from platforms.errors import PermanentError
from platforms.meta.graph import GraphClient
from platforms.meta.tokens import expiry


class ConnectSerializer(serializers.Serializer):
    access_token = serializers.CharField(write_only=True, help_text="A long-lived Threads token.")
    user_id = serializers.CharField(
        max_length=64,
        required=False,
        help_text="The Threads user id the token must belong to; checked when given.",
    )
    expires_in = serializers.IntegerField(
        required=False, min_value=1, help_text="Seconds the token has left; 60 days when left out."
    )


def connect(owner, data: dict) -> dict:
    return profile_fields(data["access_token"], data.get("user_id"), data.get("expires_in"))


def profile_fields(token: str, user_id: str | None = None, expires_in: int | None = None) -> dict:
    """Verify the token with GET /me; return the account fields to store."""
    client = GraphClient(settings.HAYON_THREADS_API_URL, token, "Threads")
    me = client.get("me", fields="id,username,name")
    found = str(me["id"])
    if user_id and user_id != found:
        raise PermanentError(f"This token belongs to Threads user {found}, not {user_id}")

    username = me.get("username") or found
    return {
        "handle": username,
        "remote_id": found,
        "base_url": f"https://www.threads.net/@{username}",
        "display_name": me.get("name") or "",
        "token_expires_at": expiry({"expires_in": expires_in}),
        "credentials": {"access_token": token},
    }

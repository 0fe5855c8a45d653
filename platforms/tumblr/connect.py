"""Connecting a Tumblr blog from existing OAuth2 tokens (browser flow: oauth.py)."""

from datetime import timedelta
from urllib.parse import urlsplit

from django.utils import timezone
from rest_framework import serializers

from platforms.errors import PermanentError
from platforms.http import json_of, send
from platforms.tumblr.publisher import api_url, tumblr_error


class ConnectSerializer(serializers.Serializer):
    access_token = serializers.CharField(
        write_only=True, help_text="An OAuth2 access token with the write scope."
    )
    refresh_token = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        help_text="Without one (no offline_access), the blog must be reconnected when the "
        "access token expires.",
    )
    expires_in = serializers.IntegerField(
        required=False, min_value=1, help_text="Seconds the access token has left."
    )
    blog = serializers.CharField(max_length=255, help_text="The blog's name, URL or uuid (t:...).")

    def validate_access_token(self, value: str) -> str:
        # The token travels in an Authorization header, which takes visible ASCII only; an
        # OAuth2 bearer token never holds anything else (RFC 6750, b64token).
        if not (value.isascii() and value.isprintable()) or " " in value:
            raise serializers.ValidationError(
                "A Tumblr access token has only visible ASCII characters, with no spaces.",
                code="invalid_token",
            )
        return value


def user_blogs(access_token: str) -> list[dict]:
    """Return the blogs of the token's user, as GET /v2/user/info lists them."""
    response = send(
        "GET",
        api_url("user/info"),
        label="Tumblr",
        headers={"Authorization": f"Bearer {access_token}"},
    )
    if response.status_code >= 400:
        raise tumblr_error(response)
    user = (json_of(response).get("response") or {}).get("user") or {}
    return [blog for blog in user.get("blogs") or [] if isinstance(blog, dict)]


def matches(blog: dict, wanted: str) -> bool:
    wanted = wanted.strip().lower()
    host = urlsplit(blog.get("url") or "").hostname or ""
    names = {str(blog.get("name", "")).lower(), str(blog.get("uuid", "")).lower(), host}
    return wanted in names or (urlsplit(wanted).hostname or "") in names - {""}


def blog_fields(blog: dict, credentials: dict, expires_in: float | None) -> dict:
    return {
        "handle": blog["name"],
        "remote_id": blog.get("uuid") or blog["name"],
        "base_url": (blog.get("url") or f"https://{blog['name']}.tumblr.com/").rstrip("/"),
        "display_name": blog.get("title") or "",
        "token_expires_at": (
            timezone.now() + timedelta(seconds=expires_in) if expires_in else None
        ),
        "credentials": credentials,
    }


def connect(owner, data: dict) -> dict:
    for blog in user_blogs(data["access_token"]):
        if matches(blog, data["blog"]):
            credentials = {
                "access_token": data["access_token"],
                "refresh_token": data.get("refresh_token") or "",
            }
            return blog_fields(blog, credentials, data.get("expires_in"))
    raise PermanentError(f"This Tumblr user cannot post to the blog {data['blog']!r}")

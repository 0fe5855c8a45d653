"""Connecting an Instagram professional account from an existing token.

`login: "instagram"` (default): an Instagram Login user token for graph.instagram.com;
`login: "facebook"`: a Facebook user token of the admin of the Page the Instagram account is
linked to; the Page's token is stored. The browser flows are in oauth.py and facebook/oauth.py.
"""

from django.conf import settings
from rest_framework import serializers

from platforms.errors import PermanentError
from platforms.meta.graph import GraphClient
from platforms.meta.pages import instagram_fields, list_pages
from platforms.meta.tokens import expiry


class ConnectSerializer(serializers.Serializer):
    access_token = serializers.CharField(
        write_only=True,
        help_text="A long-lived token from Instagram Login, or a Facebook Login user token.",
    )
    user_id = serializers.CharField(
        max_length=64, required=False, help_text="The Instagram professional account id."
    )
    login = serializers.ChoiceField(
        choices=["instagram", "facebook"],
        default="instagram",
        help_text="Which login made the token: Instagram Login or Facebook Login.",
    )
    expires_in = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Seconds the Instagram Login token has left; 60 days when left out.",
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["login"] == "facebook" and not attrs.get("user_id"):
            raise serializers.ValidationError(
                {"user_id": "Facebook Login needs the Instagram account id"}
            )
        return attrs


def connect(owner, data: dict) -> dict:
    if data["login"] == "facebook":
        return connect_through_page(data["access_token"], data["user_id"])
    return profile_fields(data["access_token"], data.get("user_id"), data.get("expires_in"))


def profile_fields(token: str, user_id: str | None = None, expires_in: int | None = None) -> dict:
    """Verify an Instagram Login token with GET /me; return the account fields to store.

    /me answers `user_id`, the professional account's id that publishing needs, beside `id`,
    the id scoped to our app; older answers only have `id`.
    """
    client = GraphClient(settings.HAYON_INSTAGRAM_API_URL, token, "Instagram")
    me = client.get("me", fields="user_id,username,name")
    found = str(me.get("user_id") or me.get("id"))
    if user_id and user_id != found:
        raise PermanentError(f"This token belongs to Instagram account {found}, not {user_id}")

    username = me.get("username") or found
    return {
        "handle": username,
        "remote_id": found,
        "base_url": f"https://www.instagram.com/{username}/",
        "display_name": me.get("name") or "",
        "token_expires_at": expiry({"expires_in": expires_in}),
        "credentials": {"access_token": token, "login": "instagram"},
    }


def connect_through_page(user_token: str, instagram_id: str) -> dict:
    for page in list_pages(user_token):
        if page.instagram_id == instagram_id and page.access_token:
            return instagram_fields(page)
    raise PermanentError(
        f"None of this user's Facebook Pages is linked to Instagram account {instagram_id}"
    )

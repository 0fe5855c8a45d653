"""Connecting a Facebook Page from an existing token (the browser flow is in oauth.py)."""

from django.conf import settings
from rest_framework import serializers

from platforms.errors import PermanentError
from platforms.meta.graph import GraphClient
from platforms.meta.pages import Page, list_pages, page_fields


class ConnectSerializer(serializers.Serializer):
    access_token = serializers.CharField(
        write_only=True,
        help_text="A Facebook user token of a Page admin (its Page token is stored), "
        "or the Page token itself.",
    )
    page_id = serializers.CharField(max_length=64, help_text="The id of the Page to post as.")


def connect(owner, data: dict) -> dict:
    """Find the Page's own token with the given token; return the account fields to store."""
    token, page_id = data["access_token"], data["page_id"]

    for page in list_pages(token):
        if page.id == page_id and page.access_token:
            return page_fields(page)

    me = GraphClient(settings.HAYON_GRAPH_API_URL, token, "Facebook").get("me", fields="id,name")
    if str(me.get("id")) != page_id:
        raise PermanentError(
            f"This token cannot post as Page {page_id}: use a token of one of its admins"
        )
    return page_fields(Page(id=page_id, name=me.get("name") or page_id, access_token=token))

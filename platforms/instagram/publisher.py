"""Publish to an Instagram professional account through containers (see meta/containers.py).

An account is connected one of two ways, recorded in its credentials as `login`:
- "instagram" (Instagram Login): a 60-day user token on graph.instagram.com, renewed by the
  token upkeep task;
- "facebook" (Facebook Login): the token of the Facebook Page the account is linked to, on
  graph.facebook.com; it does not expire, so a refused token means reconnecting.
"""

from typing import Any

from django.conf import settings

from media.images import NotAnImage
from media.prepare import CannotPrepare
from media.storage import StorageError
from media.variants import instagram_url
from platforms.base import MediaItem, PublishRequest, PublishResult
from platforms.errors import PermanentError, ReconnectRequired, TransientError
from platforms.meta.containers import ContainerPublisher
from platforms.models import Account

MAX_CAROUSEL = 10


class InstagramPublisher(ContainerPublisher):
    platform = "instagram"
    label = "Instagram"
    container_edge = "media"
    publish_edge = "media_publish"
    limit_edge = "content_publishing_limit"
    listing_edge = "media"
    text_field = "caption"
    status_key = "status_code"
    detail_key = "status"
    refresh_grant = "ig_refresh_token"

    def api_url(self, account: Account) -> str:
        if account.credentials.get("login") == "facebook":
            return settings.HAYON_GRAPH_API_URL
        return settings.HAYON_INSTAGRAM_API_URL

    def profile_url(self, account: Account) -> str:
        return f"https://www.instagram.com/{account.handle}/"

    def publish(self, account: Account, request: PublishRequest) -> PublishResult:
        if not request.media:
            raise PermanentError("Instagram needs at least one image", code="media_required")
        if len(request.media) > MAX_CAROUSEL:
            raise PermanentError(
                f"Instagram takes at most {MAX_CAROUSEL} images in one post",
                code="too_many_media",
            )
        return super().publish(account, request)

    def image_params(self, item: MediaItem) -> dict[str, Any]:
        return {"image_url": jpeg_url(item)}

    def refresh_credentials(self, account: Account) -> None:
        if account.credentials.get("login") == "facebook":
            # A Page token does not expire; when refused, only reconnecting brings a new one.
            raise ReconnectRequired(
                f"{account.reconnect_message()}: the Facebook Page token was refused"
            )

        super().refresh_credentials(account)

    def check_account(self, account: Account) -> None:
        client = self.client(account)
        client.get(account.remote_id, fields="id,username")
        self.check_quota(client, account)


publisher = InstagramPublisher()


def jpeg_url(item: MediaItem) -> str:
    """Return a URL of the image as a JPEG Instagram accepts, converting it once if needed."""
    try:
        return instagram_url(item)
    except (CannotPrepare, NotAnImage) as exc:
        raise PermanentError(f"Instagram cannot take this image: {exc}") from exc
    except StorageError as exc:
        raise TransientError(f"The image could not be read from storage: {exc}") from exc

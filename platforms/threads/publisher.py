"""Publish to Threads through containers (see meta/containers.py): text, image, carousel.

The account holds a 60-day Threads user token, renewed by the token upkeep task once it is a
day old; a token not renewed within its 60 days is lost and the account must reconnect.
"""

from typing import Any

from django.conf import settings

from platforms.base import MediaItem, PublishRequest, PublishResult
from platforms.errors import PermanentError
from platforms.meta.containers import ContainerPublisher
from platforms.models import Account

MAX_CAROUSEL = 20


class ThreadsPublisher(ContainerPublisher):
    platform = "threads"
    label = "Threads"
    container_edge = "threads"
    publish_edge = "threads_publish"
    limit_edge = "threads_publishing_limit"
    listing_edge = "threads"
    text_field = "text"
    status_key = "status"
    detail_key = "error_message"
    refresh_grant = "th_refresh_token"

    def api_url(self, account: Account) -> str:
        return settings.HAYON_THREADS_API_URL

    def profile_url(self, account: Account) -> str:
        return f"https://www.threads.net/@{account.handle}"

    def publish(self, account: Account, request: PublishRequest) -> PublishResult:
        if len(request.media) > MAX_CAROUSEL:
            raise PermanentError(
                f"Threads takes at most {MAX_CAROUSEL} images in one post", code="too_many_media"
            )
        return super().publish(account, request)

    def single_params(self, request: PublishRequest) -> dict[str, Any]:
        if not request.media:
            return {"media_type": "TEXT", "text": request.text}
        return super().single_params(request)

    def image_params(self, item: MediaItem) -> dict[str, Any]:
        return {"media_type": "IMAGE", "image_url": item.url}

    def check_account(self, account: Account) -> None:
        client = self.client(account)
        client.get("me", fields="id,username")
        self.check_quota(client, account)


publisher = ThreadsPublisher()

"""Publishing through media containers, the way Instagram and Threads both work.

1. Read the publishing quota; when it is used up, wait (RateLimited) instead of failing.
2. Create a container per image (carousel items), then the container that is published.
3. Poll each until FINISHED, within HAYON_CONTAINER_POLL_SECONDS; an attempt that runs out
   of time retries later and picks up the same containers.
4. Publish the container, then read the post's permalink.

The container ids are remembered on the delivery the moment they exist, before the publish
call. After an ambiguous publish, reconcile reads the container's status: PUBLISHED means the
post exists. A container can be published only once, so reusing it never makes a second post.
"""

import logging
import time
from typing import Any, ClassVar

from django.conf import settings
from django.utils import timezone

from platforms.base import MediaItem, Publisher, PublishRequest, PublishResult
from platforms.errors import (
    AuthExpired,
    PermanentError,
    PublishError,
    RateLimited,
    ReconnectRequired,
    TransientError,
)
from platforms.meta import tokens
from platforms.meta.graph import CONTAINER_GONE, GraphClient
from platforms.models import Account

logger = logging.getLogger(__name__)

IN_PROGRESS = "IN_PROGRESS"
FINISHED = "FINISHED"
PUBLISHED = "PUBLISHED"
ERROR = "ERROR"
EXPIRED = "EXPIRED"
FORGET = {"creation_id": None, "children": None}


class ContainerFailed(PermanentError):
    default_code = "media_failed"


class ContainerExpired(TransientError):
    default_code = "container_expired"


class ContainerPublisher(Publisher):
    """Subclasses name the edges and fields of their API and the image of a container.

    `text_field` is both the post's text in a container and the field that lists it back;
    `refresh_grant` is the grant type that renews the account's 60-day token.
    """

    label: ClassVar[str]
    container_edge: ClassVar[str]
    publish_edge: ClassVar[str]
    limit_edge: ClassVar[str]
    listing_edge: ClassVar[str]
    text_field: ClassVar[str]
    status_key: ClassVar[str]
    detail_key: ClassVar[str]
    refresh_grant: ClassVar[str]

    def api_url(self, account: Account) -> str:
        raise NotImplementedError

    def profile_url(self, account: Account) -> str:
        raise NotImplementedError

    def image_params(self, item: MediaItem) -> dict[str, Any]:
        """Return the params that put this image in a container."""
        raise NotImplementedError

    def single_params(self, request: PublishRequest) -> dict[str, Any]:
        return {
            **self.item_params(request.media[0], carousel=False),
            self.text_field: request.text,
        }

    def item_params(self, item: MediaItem, *, carousel: bool = True) -> dict[str, Any]:
        params = self.image_params(item)
        if carousel:
            params["is_carousel_item"] = "true"
        if item.alt:
            params["alt_text"] = item.alt
        return params

    def carousel_params(self, request: PublishRequest, children: list[str]) -> dict[str, Any]:
        return {
            "media_type": "CAROUSEL",
            "children": ",".join(children),
            self.text_field: request.text,
        }

    def refresh_credentials(self, account: Account) -> None:
        token, expires_at = tokens.renew(
            self.api_url(account),
            self.refresh_grant,
            account.credentials.get("access_token", ""),
            self.label,
        )
        account.store_credentials(
            {**account.credentials, "access_token": token}, expires_at=expires_at
        )

    def client(self, account: Account) -> GraphClient:
        token = account.credentials.get("access_token")
        if not token:
            raise ReconnectRequired(f"{account.reconnect_message()}: no access token stored")
        if account.token_expires_at and account.token_expires_at <= timezone.now():
            raise AuthExpired(f"The {self.label} token expired on {account.token_expires_at}")
        return GraphClient(self.api_url(account), token, self.label)

    def publish(self, account: Account, request: PublishRequest) -> PublishResult:
        client = self.client(account)
        self.check_quota(client, account)

        creation_id = request.state.get("creation_id")
        if creation_id:
            status, _ = self.container_status(client, creation_id)
            if status == PUBLISHED:
                return self.find_published(client, account, request, creation_id)
            if status in (ERROR, EXPIRED):
                request.remember(FORGET)
                creation_id = None

        if not creation_id:
            creation_id = self.create_containers(client, account, request)

        try:
            self.wait_until_finished(client, creation_id)
            published = client.post(
                f"{account.remote_id}/{self.publish_edge}",
                {"creation_id": creation_id},
                creates=True,
            )
        except PublishError as exc:
            if isinstance(exc, ContainerFailed | ContainerExpired) or (
                getattr(exc, "graph_subcode", None) in CONTAINER_GONE
            ):
                request.remember(FORGET)
            raise

        media_id = str(published["id"])
        return PublishResult(media_id, self.permalink(client, account, media_id))

    def reconcile(self, account: Account, request: PublishRequest) -> PublishResult | None:
        creation_id = request.state.get("creation_id")
        if not creation_id:
            # The container id is stored before publishing: without one, nothing was published.
            return None

        client = self.client(account)
        status, _ = self.container_status(client, creation_id)
        if status == PUBLISHED:
            return self.find_published(client, account, request, creation_id)
        return None

    def check_quota(self, client: GraphClient, account: Account) -> None:
        answer = client.get(f"{account.remote_id}/{self.limit_edge}", fields="quota_usage,config")
        rows = answer.get("data") or [{}]
        usage = rows[0].get("quota_usage")
        total = (rows[0].get("config") or {}).get("quota_total")

        if isinstance(usage, int) and isinstance(total, int) and usage >= total:
            raise RateLimited(
                f"{self.label} allows {total} API posts a day and this account has used them; "
                "trying again later",
                retry_after=settings.HAYON_QUOTA_RETRY_SECONDS,
                code="quota_exhausted",
            )

    def create_containers(
        self, client: GraphClient, account: Account, request: PublishRequest
    ) -> str:
        """Create the containers of this post; return the id of the one to publish."""
        edge = f"{account.remote_id}/{self.container_edge}"

        if len(request.media) > 1:
            children: list[str] = []
            for item in request.media:
                children.append(str(client.post(edge, self.item_params(item))["id"]))
                request.remember({"children": children})
            for child in children:
                self.wait_until_finished(client, child)
            params = self.carousel_params(request, children)
        else:
            params = self.single_params(request)

        creation_id = str(client.post(edge, params)["id"])
        request.remember({"creation_id": creation_id})
        logger.info(
            "container created post=%s delivery=%s platform=%s container=%s",
            request.post_id,
            request.delivery_id,
            self.platform,
            creation_id,
        )
        return creation_id

    def container_status(self, client: GraphClient, container_id: str) -> tuple[str, str]:
        answer = client.get(container_id, fields=f"{self.status_key},{self.detail_key}")
        return answer.get(self.status_key) or IN_PROGRESS, answer.get(self.detail_key) or ""

    def wait_until_finished(self, client: GraphClient, container_id: str) -> None:
        deadline = time.monotonic() + settings.HAYON_CONTAINER_POLL_SECONDS
        interval = settings.HAYON_CONTAINER_POLL_INTERVAL

        while True:
            status, detail = self.container_status(client, container_id)
            if status in (FINISHED, PUBLISHED):
                return
            if status == ERROR:
                raise ContainerFailed(
                    f"{self.label} could not process the media: {detail or 'no reason given'}"
                )
            if status == EXPIRED:
                raise ContainerExpired(
                    f"The {self.label} container expired before publishing; making a new one"
                )
            if time.monotonic() + interval > deadline:
                raise TransientError(
                    f"{self.label} is still processing the media; checking again later",
                    code="media_processing",
                )
            time.sleep(interval)

    def permalink(self, client: GraphClient, account: Account, media_id: str) -> str:
        """Return the post's permalink; the post exists, so a failed read must not raise."""
        try:
            answer = client.get(media_id, fields="permalink")
        except PublishError as exc:
            logger.warning(
                "permalink not readable platform=%s account=%s media=%s: %s",
                self.platform,
                account.pk,
                media_id,
                exc.message,
            )
            return self.profile_url(account)
        return answer.get("permalink") or self.profile_url(account)

    def find_published(
        self, client: GraphClient, account: Account, request: PublishRequest, creation_id: str
    ) -> PublishResult:
        """Return the post made from a PUBLISHED container, found among the latest posts."""
        listing = client.get(
            f"{account.remote_id}/{self.listing_edge}",
            fields=f"id,{self.text_field},permalink,timestamp",
            limit=25,
        )
        for media in listing.get("data") or []:
            if (media.get(self.text_field) or "").strip() == request.text.strip():
                url = media.get("permalink") or self.profile_url(account)
                return PublishResult(str(media["id"]), url)

        logger.warning(
            "published container without a matching post post=%s delivery=%s platform=%s "
            "container=%s",
            request.post_id,
            request.delivery_id,
            self.platform,
            creation_id,
        )
        return PublishResult(creation_id, self.profile_url(account))

"""Publish to Bluesky through the atproto SDK.

The account stores the SDK's session string (access and refresh JWT) and the app password,
both encrypted. We log in with the password only when connecting or when the refresh token is
no longer accepted; createSession is limited to 30 calls per 5 minutes per account.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from atproto import Client, models
from atproto_client.client.session import Session, SessionEvent
from atproto_client.exceptions import (
    BadRequestError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.request import Request
from django.conf import settings

from platforms.base import MediaItem, Publisher, PublishRequest, PublishResult
from platforms.bluesky.linkcard import link_card_embed
from platforms.bluesky.richtext import build_rich_text
from platforms.bluesky.tid import new_tid
from platforms.errors import (
    AuthExpired,
    PermanentError,
    RateLimited,
    ReconnectRequired,
    TransientError,
    Unconfirmed,
)
from platforms.models import Account

logger = logging.getLogger(__name__)

# Refresh a little before the SDK would (15 min), so the SDK never refreshes outside our lock.
REFRESH_MARGIN = timedelta(minutes=20)
TOKEN_ERRORS = {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"}


def post_url(did: str, rkey: str) -> str:
    return f"{settings.HAYON_BLUESKY_WEB_URL.rstrip('/')}/profile/{did}/post/{rkey}"


@contextmanager
def new_client(service_url: str) -> Iterator[Client]:
    """Yield an SDK client and close its HTTP connections afterwards."""
    request = Request(timeout=settings.HAYON_PLATFORM_TIMEOUT)
    try:
        yield Client(base_url=service_url, request=request)
    finally:
        request.close()


def error_name(exc: RequestErrorBase) -> str:
    content = getattr(exc.response, "content", None)
    return getattr(content, "error", "") or ""


def error_text(exc: RequestErrorBase) -> str:
    content = getattr(exc.response, "content", None)
    message = getattr(content, "message", None)
    return message or error_name(exc) or str(exc)


def session_expires_soon(session_string: str) -> bool:
    expires = Session.decode(session_string).access_jwt_payload.exp
    if expires is None:
        return False
    return datetime.fromtimestamp(expires, UTC) - REFRESH_MARGIN < datetime.now(UTC)


def translate(exc: RequestErrorBase, *, ambiguous: bool) -> Exception:
    """Return the shared error for an SDK error; `ambiguous` when a create may have landed."""
    if isinstance(exc, RateLimitExceededError):
        wait = exc.retry_after
        if wait is None and exc.reset_at is not None:
            wait = (exc.reset_at - datetime.now(UTC)).total_seconds()
        return RateLimited(
            "Bluesky asked us to slow down", retry_after=wait or 60, http_status=429
        )

    if isinstance(exc, UnauthorizedError) or error_name(exc) in TOKEN_ERRORS:
        return AuthExpired(f"Bluesky did not accept the session: {error_text(exc)}")

    if isinstance(exc, BadRequestError):
        return PermanentError(f"Bluesky refused the post: {error_text(exc)}", http_status=400)

    status = getattr(exc.response, "status_code", None)
    if status == 413:
        return PermanentError("Bluesky refused a file as too large", http_status=413)

    if ambiguous:
        return Unconfirmed(
            f"No clear answer from Bluesky ({what_happened(exc)}); checking before retrying"
        )
    return TransientError(
        f"Bluesky could not be reached: {what_happened(exc)}", http_status=status
    )


def what_happened(exc: RequestErrorBase) -> str:
    """Describe a failed call in words for the delivery's error: the SDK's own text is the
    repr of its response object, or empty for a network error."""
    status = getattr(exc.response, "status_code", None)
    if status is None:
        return type(exc).__name__

    content = getattr(exc.response, "content", None)
    message = getattr(content, "message", None) or error_name(exc)
    return f"HTTP {status}: {message}" if message else f"HTTP {status}"


class BlueskyPublisher(Publisher):
    platform = "bluesky"

    def new_idempotency_key(self) -> str:
        return new_tid()

    def connect(self, handle: str, app_password: str, service_url: str) -> dict:
        """Log in once and return the account fields to store; raise PermanentError if refused."""
        with new_client(service_url) as client:
            try:
                client.login(handle, app_password, fetch_bsky_profile=False)
            except (UnauthorizedError, BadRequestError) as exc:
                raise PermanentError(
                    f"Bluesky refused the handle or app password: {error_text(exc)}"
                ) from exc
            except RequestErrorBase as exc:
                raise TransientError(
                    f"Could not reach the Bluesky server at {service_url}"
                ) from exc
            session = client.export_session_string()

        me = Session.decode(session)
        return {
            "handle": me.handle,
            "remote_id": me.did,
            "base_url": service_url,
            "credentials": {"session": session, "app_password": app_password},
        }

    def service_url(self, account: Account) -> str:
        """Return the PDS the account was connected on (bsky.social's when none was given)."""
        return account.base_url or settings.HAYON_BLUESKY_SERVICE_URL

    @contextmanager
    def _client(self, account: Account) -> Iterator[Client]:
        """Yield a client logged in with the stored session, which must not be near expiry."""
        session = account.credentials.get("session")
        if not session:
            raise ReconnectRequired("The Bluesky account has no session; reconnect it")
        if session_expires_soon(session):
            raise AuthExpired("The Bluesky session is about to expire")

        def persist(event: SessionEvent, new_session: Session) -> None:
            # Refresh tokens rotate: the new one must be stored the moment we get it.
            if event != SessionEvent.IMPORT:
                account.store_credentials({**account.credentials, "session": new_session.encode()})

        with new_client(self.service_url(account)) as client:
            client.login(session_string=session, fetch_bsky_profile=False)
            client.on_session_change(persist)
            yield client

    def publish(self, account: Account, request: PublishRequest) -> PublishResult:
        with self._client(account) as client:
            return self._publish(client, account, request)

    def _publish(self, client: Client, account: Account, request: PublishRequest) -> PublishResult:
        did = account.remote_id

        try:
            rich = build_rich_text(request.text, lambda handle: self._resolve(client, handle))
            embed = self._embed_images(client, request.media) if request.media else None
            # Like Bluesky's app: a post whose only link has no media shows that link's card.
            if embed is None and len(rich.links) == 1 and settings.HAYON_BLUESKY_LINK_CARDS:
                embed = link_card_embed(client, rich.links[0])
        except RequestErrorBase as exc:
            raise translate(exc, ambiguous=False) from exc

        if rich.unresolved_mentions:
            logger.warning(
                "bluesky mentions posted as plain text post=%s delivery=%s handles=%s",
                request.post_id,
                request.delivery_id,
                ",".join(rich.unresolved_mentions),
            )

        record = models.AppBskyFeedPost.Record(
            text=rich.text,
            facets=rich.facets or None,
            embed=embed,
            created_at=client.get_current_time_iso(),
            langs=request.options.get("langs") or None,
        )
        try:
            client.app.bsky.feed.post.create(did, record, rkey=request.idempotency_key)
        except RequestErrorBase as exc:
            raise translate(exc, ambiguous=True) from exc

        return PublishResult(
            remote_id=request.idempotency_key, url=post_url(did, request.idempotency_key)
        )

    def reconcile(self, account: Account, request: PublishRequest) -> PublishResult | None:
        with self._client(account) as client:
            try:
                client.app.bsky.feed.post.get(account.remote_id, request.idempotency_key)
            except BadRequestError as exc:
                if error_name(exc) == "RecordNotFound":
                    return None
                raise translate(exc, ambiguous=False) from exc
            except RequestErrorBase as exc:
                raise translate(exc, ambiguous=False) from exc

        key = request.idempotency_key
        return PublishResult(remote_id=key, url=post_url(account.remote_id, key))

    def refresh_credentials(self, account: Account) -> None:
        try:
            old = Session.decode(account.credentials.get("session", ""))
            with new_client(old.pds_endpoint or self.service_url(account)) as client:
                refreshed = client.com.atproto.server.refresh_session(
                    headers={"Authorization": f"Bearer {old.refresh_jwt}"},
                    ignore_session_check=True,
                )
        except (UnauthorizedError, BadRequestError, ValueError):
            logger.info("bluesky refresh token refused account=%s; logging in again", account.pk)
            self._login_again(account)
            return
        except NetworkError as exc:
            raise TransientError("Could not reach Bluesky to refresh the session") from exc

        new_session = Session(
            refreshed.handle,
            refreshed.did,
            refreshed.access_jwt,
            refreshed.refresh_jwt,
            old.pds_endpoint,
        )
        account.store_credentials({**account.credentials, "session": new_session.encode()})

    def _login_again(self, account: Account) -> None:
        password = account.credentials.get("app_password")
        if not password:
            raise ReconnectRequired(account.reconnect_message())

        try:
            fields = self.connect(account.handle, password, self.service_url(account))
        except PermanentError as exc:
            raise ReconnectRequired(f"{account.reconnect_message()}: {exc.message}") from exc

        account.store_credentials(fields["credentials"])

    def check_account(self, account: Account) -> None:
        # A session outlives a revoked app password, so the check logs in with the password
        # when there is one: "active" then means Hayon could connect again from scratch.
        if account.credentials.get("app_password"):
            self._login_again(account)
            return

        with self._client(account) as client:
            try:
                client.com.atproto.server.get_session()
            except RequestErrorBase as exc:
                raise translate(exc, ambiguous=False) from exc

    def _resolve(self, client: Client, handle: str) -> str | None:
        try:
            return client.resolve_handle(handle).did
        except BadRequestError:
            return None

    def _embed_images(self, client: Client, media: tuple[MediaItem, ...]):
        from media import prepare
        from media.images import NotAnImage
        from media.storage import StorageError

        images = []
        for item in media:
            # Only an image over Bluesky's byte limit is re-encoded; the aspect ratio sent is
            # the one of the bytes uploaded.
            try:
                prepared = prepare.for_bluesky(item.read())
            except StorageError as exc:
                raise TransientError(f"An image could not be read from storage: {exc}") from exc
            except (NotAnImage, prepare.CannotPrepare) as exc:
                raise PermanentError(f"An image could not be prepared for Bluesky: {exc}") from exc
            blob = client.upload_blob(prepared.data).blob
            images.append(
                models.AppBskyEmbedImages.Image(
                    alt=item.alt or "",
                    image=blob,
                    aspect_ratio=models.AppBskyEmbedDefs.AspectRatio(
                        width=prepared.width, height=prepared.height
                    ),
                )
            )
        return models.AppBskyEmbedImages.Main(images=images)


publisher = BlueskyPublisher()

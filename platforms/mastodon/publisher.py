"""Publish to Mastodon with Mastodon.py.

Images are uploaded first and polled until the instance has processed them (202 on upload,
206 while processing, 200 when ready, 422 when processing failed), within a bounded wait.
Their ids are remembered on the delivery, so a retry reuses them instead of uploading again.
The status is posted with the delivery's idempotency key as `Idempotency-Key`: the instance
keeps it for an hour and answers a repeat with the status it already made, so after an
ambiguous failure reconciling is simply asking again with the same key.
"""

import logging
import time

from django.utils import timezone
from mastodon import Mastodon
from mastodon.errors import MastodonAPIError, MastodonError

from media.images import NotAnImage
from media.prepare import CannotPrepare, PreparedImage, for_mastodon
from media.storage import StorageError
from platforms.base import (
    RETRIED_BY_PERSON,
    MediaItem,
    Publisher,
    PublishRequest,
    PublishResult,
)
from platforms.errors import PermanentError, ReconnectRequired, TransientError, Unconfirmed
from platforms.mastodon.client import api_for, message_of, status_of, translate
from platforms.mastodon.rules import instance_limits
from platforms.models import Account

logger = logging.getLogger(__name__)

# How long one attempt waits for the instance to process uploaded media, and how often it asks.
MEDIA_WAIT = 60.0
MEDIA_POLL_FIRST = 0.5
MEDIA_POLL_MAX = 5.0
# Mastodon keeps idempotency keys for an hour; past that a repeat could post twice.
IDEMPOTENCY_WINDOW = 50 * 60
LIMITS_MAX_AGE = 24 * 3600


class MastodonPublisher(Publisher):
    platform = "mastodon"

    def connect(self, instance_url: str, access_token: str) -> dict:
        """Verify a token and read the instance's limits; return the account fields to store."""
        with api_for(instance_url, access_token) as api:
            try:
                me = api.account_verify_credentials()
                instance = api.instance_v2()
            except MastodonError as exc:
                error = translate(exc, api, ambiguous=False)
                if isinstance(error, ReconnectRequired):
                    raise PermanentError(
                        f"{instance_url} did not accept the access token: {message_of(exc)}"
                    ) from exc
                raise error from exc

        domain = instance.get("domain") or instance_url.split("://", 1)[1]
        return {
            "handle": f"@{me['username']}@{domain}",
            "remote_id": str(me["id"]),
            "base_url": instance_url,
            "display_name": me.get("display_name") or "",
            "limits": instance_limits(instance),
            "credentials": {"access_token": access_token},
        }

    def _api(self, account: Account):
        token = account.credentials.get("access_token")
        if not token:
            raise ReconnectRequired(f"{account.reconnect_message()}: no access token stored")
        return api_for(account.base_url, token)

    def publish(self, account: Account, request: PublishRequest) -> PublishResult:
        with self._api(account) as api:
            self._refresh_limits_if_stale(api, account)
            media_ids = self._media(api, account, request)

            request.remember({"status_sent_at": time.time(), RETRIED_BY_PERSON: False})
            return self._post_status(api, request, media_ids, ambiguous=True)

    def reconcile(self, account: Account, request: PublishRequest) -> PublishResult | None:
        sent_at = request.state.get("status_sent_at")
        if sent_at is None:
            return None
        if time.time() - sent_at > IDEMPOTENCY_WINDOW:
            if request.state.get(RETRIED_BY_PERSON):
                return None
            raise Unconfirmed(
                "Mastodon no longer remembers the idempotency key of the earlier attempt; "
                "check the account's profile before retrying"
            )

        with self._api(account) as api:
            media_ids = list(request.state.get("media_ids") or [])
            try:
                return self._post_status(api, request, media_ids, ambiguous=False)
            except PermanentError as exc:
                # A repeat the instance refuses was never made: the key would have matched.
                logger.info(
                    "mastodon reconcile found no status post=%s delivery=%s: %s",
                    request.post_id,
                    request.delivery_id,
                    exc.message,
                )
                return None

    def _post_status(
        self, api: Mastodon, request: PublishRequest, media_ids: list, *, ambiguous: bool
    ) -> PublishResult:
        options = request.options
        langs = options.get("langs") or []
        try:
            status = api.status_post(
                request.text,
                media_ids=media_ids or None,
                visibility=options.get("visibility") or None,
                spoiler_text=options.get("spoiler_text") or None,
                language=langs[0] if langs else None,
                idempotency_key=request.idempotency_key,
            )
        except MastodonError as exc:
            raise translate(exc, api, ambiguous=ambiguous) from exc

        return PublishResult(remote_id=str(status["id"]), url=status.get("url") or status["uri"])

    def _media(self, api: Mastodon, account: Account, request: PublishRequest) -> list:
        """Return ids of processed attachments for the request's media, uploading if needed."""
        if not request.media:
            return []

        ids = list(request.state.get("media_ids") or [])
        if len(ids) != len(request.media):
            ids = [self._upload(api, account, item) for item in request.media]
            request.remember({"media_ids": ids})

        self._wait_until_processed(api, ids, request)
        return ids

    def _upload(self, api: Mastodon, account: Account, item: MediaItem):
        image = fitted_image(account, item)
        try:
            attachment = api.media_post(
                image.data,
                mime_type=image.content_type,
                description=item.alt or None,
                file_name=f"hayon-{item.media_id}",
            )
        except MastodonError as exc:
            error = translate(exc, api, ambiguous=False)
            if isinstance(error, PermanentError):
                error = PermanentError(
                    f"Mastodon refused image {item.media_id}: {message_of(exc)}",
                    http_status=error.http_status,
                )
            raise error from exc
        return attachment["id"]

    def _wait_until_processed(self, api: Mastodon, ids: list, request: PublishRequest) -> None:
        pending = list(ids)
        deadline = time.monotonic() + MEDIA_WAIT
        pause = MEDIA_POLL_FIRST

        while pending:
            try:
                pending = [media_id for media_id in pending if not api.media(media_id)["url"]]
            except MastodonAPIError as exc:
                if status_of(exc) == 422:
                    raise PermanentError(
                        f"Mastodon could not process an image: {message_of(exc)}", http_status=422
                    ) from exc
                raise translate(exc, api, ambiguous=False) from exc
            except MastodonError as exc:
                raise translate(exc, api, ambiguous=False) from exc

            if not pending:
                return
            if time.monotonic() + pause > deadline:
                logger.warning(
                    "mastodon media still processing post=%s delivery=%s media=%s",
                    request.post_id,
                    request.delivery_id,
                    pending,
                )
                raise TransientError("Mastodon is still processing the images")
            time.sleep(pause)
            pause = min(pause * 2, MEDIA_POLL_MAX)

    def refresh_credentials(self, account: Account) -> None:
        raise ReconnectRequired(
            f"{account.reconnect_message()}: Mastodon access tokens cannot be refreshed"
        )

    def check_account(self, account: Account) -> None:
        """Verify the token and refresh the instance's limits (they change when admins say so)."""
        with self._api(account) as api:
            try:
                api.account_verify_credentials()
                instance = api.instance_v2()
            except MastodonError as exc:
                raise translate(exc, api, ambiguous=False) from exc

        account.touch_limits(instance_limits(instance))

    def _refresh_limits_if_stale(self, api: Mastodon, account: Account) -> None:
        """Re-read the instance's limits once a day; the compose page counts against them."""
        checked = account.limits_checked_at
        if checked and (timezone.now() - checked).total_seconds() < LIMITS_MAX_AGE:
            return
        try:
            account.touch_limits(instance_limits(api.instance_v2()))
        except MastodonError:
            logger.info("mastodon instance limits not refreshed account=%s", account.pk)


publisher = MastodonPublisher()


def fitted_image(account: Account, item: MediaItem) -> PreparedImage:
    """Return the image within the instance's size and type limits (re-encoded only if not)."""
    try:
        return for_mastodon(item.read(), account.limits)
    except (CannotPrepare, NotAnImage) as exc:
        raise PermanentError(f"Mastodon cannot take image {item.media_id}: {exc}") from exc
    except StorageError as exc:
        raise TransientError(f"The image could not be read from storage: {exc}") from exc

"""The one contract every platform module implements.

A publisher receives plain data (the text, prepared media, the account and its credentials, an
idempotency handle chosen before the first call) and returns plain data, or raises one of the
errors in platforms/errors.py. It never reads or writes a post or a delivery: the worker in
posts/publishing.py owns those, which keeps each platform testable against its server alone.
"""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from platforms.models import Account

# Stored in a delivery's state when a person retries it after it was `unconfirmed`: their word
# that the post did not go out. A reconcile that finds nothing but cannot be sure then returns
# None instead of raising Unconfirmed again, so the post is sent (docs/delivery-states.md).
RETRIED_BY_PERSON = "retried_by_person"


@dataclass(frozen=True)
class MediaItem:
    """One image of a post, as stored after the upload checks."""

    media_id: int
    content_type: str
    size: int
    width: int
    height: int
    alt: str
    url: str
    read: Callable[[], bytes] = field(repr=False)


@dataclass(frozen=True)
class PublishRequest:
    delivery_id: int
    post_id: int
    text: str
    idempotency_key: str
    attempt: int
    media: tuple[MediaItem, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    # Handles a multi-step platform (Meta containers) records before the call that uses them;
    # `remember` stores them on the delivery at once, `state` holds what earlier attempts stored.
    state: Mapping[str, Any] = field(default_factory=dict)
    remember: Callable[[dict[str, Any]], None] = field(default=lambda state: None, repr=False)


@dataclass(frozen=True)
class PublishResult:
    remote_id: str
    url: str


class Publisher:
    """Base class: publish one post to one account, and find out whether an earlier try did."""

    platform: ClassVar[str]

    def new_idempotency_key(self) -> str:
        """Return the handle stored on a delivery before its first call to the platform."""
        return uuid.uuid4().hex

    def publish(self, account: Account, request: PublishRequest) -> PublishResult:
        raise NotImplementedError

    def reconcile(self, account: Account, request: PublishRequest) -> PublishResult | None:
        """Return the post an earlier attempt made, None if it surely made none.

        Raise Unconfirmed when the platform cannot tell, TransientError when it cannot be
        asked right now.
        """
        raise NotImplementedError

    def refresh_credentials(self, account: Account) -> None:
        """Renew the account's access token and store it; raise ReconnectRequired if impossible.

        Called with the account row locked, so one worker refreshes while the others wait.
        """
        raise NotImplementedError

    def check_account(self, account: Account) -> None:
        """Verify the credentials still work (and refresh cached limits); raise on failure."""
        raise NotImplementedError

"""Bluesky: 300 graphemes and 3,000 UTF-8 bytes of the text as Bluesky's app shows it.

Links typed with their scheme are counted shortened, the way the app displays and counts them
(platforms/bluesky/richtext.py). Mentions are checked against the account's PDS, so an unknown
handle is a warning (it will be posted as plain text), never a refusal.
"""

import logging
from collections.abc import Mapping
from typing import Any

from atproto import Client
from atproto_client.exceptions import BadRequestError, RequestErrorBase
from atproto_client.request import Request
from django.conf import settings

from platforms.bluesky.richtext import displayed_text, mentioned_handles
from platforms.models import Account
from platforms.rules import MB, Limits, PlatformRules, Problem
from platforms.text import grapheme_count, utf8_length

logger = logging.getLogger(__name__)

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_ALT_GRAPHEMES = 2000
# Bluesky has accepted 2,000,000-byte images since April 2026; the worker re-encodes anything
# above the 1,000,000-byte safe target, so only files too big to prepare are refused here.
TARGET_IMAGE_BYTES = 1_000_000
MAX_SOURCE_IMAGE_BYTES = 50 * MB
RESOLVE_TIMEOUT = 5.0

LIMITS = Limits(
    text=MAX_GRAPHEMES,
    media=4,
    image_bytes=MAX_SOURCE_IMAGE_BYTES,
    image_types=("image/jpeg", "image/png", "image/webp", "image/gif"),
    alt=MAX_ALT_GRAPHEMES,
)


def resolve_at(service_url: str, handle: str) -> str | None:
    """Return the DID the PDS resolves a handle to, None if it does not resolve.

    Raise RequestErrorBase when the PDS cannot be asked.
    """
    request = Request(timeout=RESOLVE_TIMEOUT)
    try:
        client = Client(base_url=service_url, request=request)
        return client.resolve_handle(handle).did
    except BadRequestError:
        return None
    finally:
        request.close()


class BlueskyRules(PlatformRules):
    platform = "bluesky"
    options_taken = frozenset({"langs"})
    unit = "graphemes"
    alt_unit = "graphemes"

    def limits(self, account: Account) -> Limits:
        return LIMITS

    def measure(self, text: str, account: Account, options: Mapping[str, Any]) -> int:
        return grapheme_count(displayed_text(text))

    def measure_alt(self, alt: str) -> int:
        return grapheme_count(alt)

    def text_problems(
        self, text: str, account: Account, options: Mapping[str, Any], limits: Limits
    ) -> list[Problem]:
        problems = []
        size = utf8_length(displayed_text(text))
        if size > MAX_BYTES:
            problems.append(
                Problem(
                    "text_too_long",
                    f"{account} allows {MAX_BYTES} bytes of UTF-8 text; this text has {size}",
                    limit=MAX_BYTES,
                    measured=size,
                )
            )
        problems.extend(self.mention_problems(text, account))
        return problems

    def mention_problems(self, text: str, account: Account) -> list[Problem]:
        handles = mentioned_handles(text)
        if not handles:
            return []

        service = account.base_url or settings.HAYON_BLUESKY_SERVICE_URL
        problems = []
        for handle in handles:
            try:
                did = resolve_at(service, handle)
            except RequestErrorBase:
                logger.warning(
                    "bluesky mention check failed account=%s handle=%s", account.pk, handle
                )
                problems.append(
                    Problem(
                        "mention_unchecked",
                        f"Could not check @{handle} with Bluesky; it may post as plain text",
                        severity="warning",
                    )
                )
                continue
            if did is None:
                problems.append(
                    Problem(
                        "mention_unresolved",
                        f"@{handle} is not a Bluesky handle; it will be posted as plain text",
                        severity="warning",
                    )
                )
        return problems


rules = BlueskyRules()

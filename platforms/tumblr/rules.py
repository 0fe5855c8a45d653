"""Tumblr (NPF): every text block holds at most 4,096 code points; up to 10 images.

A post's text becomes one NPF text block per line (`text_blocks`, which the publisher uses
too), so the limit applies to the longest line. The measured figure is that line's length.
Tumblr takes 30 image blocks; Hayon keeps to 10.
"""

from collections.abc import Mapping
from typing import Any

from platforms.models import Account
from platforms.rules import MB, Limits, PlatformRules, Problem
from platforms.text import code_point_count, utf8_length

BLOCK_LIMIT = 4096
# The whole post must stay under 1 MB; text is what we can count before sending.
POST_BYTES = 1_000_000

LIMITS = Limits(
    text=BLOCK_LIMIT,
    media=10,
    image_bytes=20 * MB,
    image_types=("image/jpeg", "image/png", "image/gif", "image/webp"),
)


def text_blocks(text: str) -> list[str]:
    """Return the NPF text blocks of a post: one per non-empty line."""
    return [line for line in text.splitlines() if line.strip()]


class TumblrRules(PlatformRules):
    platform = "tumblr"
    unit = "characters per paragraph"

    def limits(self, account: Account) -> Limits:
        return LIMITS

    def measure(self, text: str, account: Account, options: Mapping[str, Any]) -> int:
        return max((code_point_count(block) for block in text_blocks(text)), default=0)

    def text_problems(
        self, text: str, account: Account, options: Mapping[str, Any], limits: Limits
    ) -> list[Problem]:
        size = utf8_length(text)
        if size <= POST_BYTES:
            return []
        return [
            Problem(
                "text_too_long",
                f"{account} takes posts up to {POST_BYTES} bytes; this text has {size}",
                limit=POST_BYTES,
                measured=size,
            )
        ]


rules = TumblrRules()

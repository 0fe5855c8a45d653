"""Threads: 500 characters counted in UTF-8 bytes, at most 5 different links, up to 20 images.

Meta's Threads documentation says emoji count as their number of UTF-8 bytes, and the API has
been seen refusing texts of fewer than 500 characters whose curly quotes pushed them over 500
bytes; we count every character by its UTF-8 bytes, which never lets a refused text through.
"""

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from platforms.models import Account
from platforms.rules import MB, Limits, PlatformRules, Problem, count_problem
from platforms.text import distinct_link_count, utf8_length

LIMITS = Limits(
    text=500,
    media=20,
    image_bytes=8 * MB,
    image_types=("image/jpeg", "image/png"),
    alt=1000,
    links=5,
)


class ThreadsRules(PlatformRules):
    platform = "threads"
    unit = "bytes"
    video_stands_alone = False
    # Threads refuses images wider or taller than 10:1.
    aspect_range = (Fraction(1, 10), Fraction(10, 1))

    def limits(self, account: Account) -> Limits:
        return LIMITS

    def measure(self, text: str, account: Account, options: Mapping[str, Any]) -> int:
        return utf8_length(text)

    def text_problems(
        self, text: str, account: Account, options: Mapping[str, Any], limits: Limits
    ) -> list[Problem]:
        links = distinct_link_count(text)
        return count_problem("too_many_links", "different links", account, links, limits.links)


rules = ThreadsRules()

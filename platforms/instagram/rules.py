"""Instagram (content publishing API): a caption of 2,200 characters with at most 30 hashtags
and 20 @mentions, and at least one image, JPEG (PNG is converted in the worker), up to 8 MB,
between 4:5 and 1.91:1. Up to 10 images make a carousel.

Meta documents "characters" without saying how it counts them; we count UTF-16 code units
(an emoji is 2), the strictest reasonable reading, so a caption we accept is never refused.
"""

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import regex

from platforms.models import Account
from platforms.rules import MB, Limits, PlatformRules, Problem, count_problem
from platforms.text import utf16_length

LIMITS = Limits(
    text=2200,
    media=10,
    image_bytes=8 * MB,
    image_types=("image/jpeg", "image/png"),
    hashtags=30,
    mentions=20,
)

_HASHTAG = regex.compile(r"(?<![\w#&])#[\p{L}\p{M}\p{N}_]*[\p{L}\p{M}_][\p{L}\p{M}\p{N}_]*")
_MENTION = regex.compile(r"(?<![\w@])@[A-Za-z0-9._]{1,30}")


def hashtag_count(text: str) -> int:
    return len(_HASHTAG.findall(text))


def mention_count(text: str) -> int:
    return len(_MENTION.findall(text))


class InstagramRules(PlatformRules):
    platform = "instagram"
    unit = "characters"
    requires_media = True
    video_stands_alone = False
    aspect_range = (Fraction(4, 5), Fraction(191, 100))

    def limits(self, account: Account) -> Limits:
        return LIMITS

    def measure(self, text: str, account: Account, options: Mapping[str, Any]) -> int:
        return utf16_length(text)

    def text_problems(
        self, text: str, account: Account, options: Mapping[str, Any], limits: Limits
    ) -> list[Problem]:
        hashtags = hashtag_count(text)
        mentions = mention_count(text)
        return [
            *count_problem("too_many_hashtags", "hashtags", account, hashtags, limits.hashtags),
            *count_problem("too_many_mentions", "@mentions", account, mentions, limits.mentions),
        ]


rules = InstagramRules()

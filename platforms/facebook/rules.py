"""Facebook Pages: a message of 63,206 characters and up to 10 photos of at most 4 MB each.

The 63,206 figure is the widely observed limit, not one Meta documents for the Graph API; we
count UTF-16 code units (an emoji is 2), the strictest reasonable reading.
"""

from collections.abc import Mapping
from typing import Any

from platforms.models import Account
from platforms.rules import MB, Limits, PlatformRules
from platforms.text import utf16_length

LIMITS = Limits(
    text=63_206,
    media=10,
    image_bytes=4 * MB,
    image_types=("image/jpeg", "image/png", "image/gif", "image/webp"),
)


class FacebookRules(PlatformRules):
    platform = "facebook"
    unit = "characters"

    def limits(self, account: Account) -> Limits:
        return LIMITS

    def measure(self, text: str, account: Account, options: Mapping[str, Any]) -> int:
        return utf16_length(text)


rules = FacebookRules()

from platforms.models import Account
from platforms.rules import PlatformRules, Problem
from platforms.text import grapheme_count, utf8_length

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
# Bluesky has accepted 2,000,000-byte images since April 2026; images above the safe target
# are re-encoded in the worker, so only what cannot be shrunk is refused here.
TARGET_IMAGE_BYTES = 1_000_000


class BlueskyRules(PlatformRules):
    platform = "bluesky"
    unit = "graphemes"
    max_media = 4
    max_image_bytes = 50_000_000
    max_alt_length = 2000

    def text_limit(self, account: Account) -> int:
        return MAX_GRAPHEMES

    def measure(self, text: str, account: Account) -> int:
        return grapheme_count(text)

    def extra_text_problems(self, text: str, account: Account) -> list[Problem]:
        size = utf8_length(text)
        if size <= MAX_BYTES:
            return []
        return [
            Problem(
                "text_too_long",
                f"{account} allows {MAX_BYTES} bytes of UTF-8 text; this text has {size}",
                limit=MAX_BYTES,
                measured=size,
            )
        ]


rules = BlueskyRules()

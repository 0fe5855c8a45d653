"""Mastodon: limits read from the account's instance, length counted as the instance counts it.

Mastodon's StatusLengthValidator counts the grapheme clusters of the content warning followed
by the text, after replacing every http(s) link with `characters_reserved_per_url` characters
and every `@user@domain` mention with `@user`. Links and mentions are found the way its
twitter-text extractor finds them; overlapping ones keep the earlier.
"""

from collections.abc import Mapping
from typing import Any

import regex

from platforms.models import Account
from platforms.rules import Limits, PlatformRules
from platforms.text import find_links, grapheme_count

# Mastodon's defaults, used until the instance has been asked (GET /api/v2/instance).
MAX_SOURCE_IMAGE_BYTES = 50 * 1024 * 1024

DEFAULT_LIMITS = {
    "max_characters": 500,
    "max_media_attachments": 4,
    "characters_reserved_per_url": 23,
    "description_limit": 1500,
    "image_size_limit": 16 * 1024 * 1024,
    "video_size_limit": 99 * 1024 * 1024,
    "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
}

# Account::MENTION_RE: a username, optionally followed by @domain, not glued to a word, "/"
# or "=" (so the "@" inside a URL is not a mention).
_MENTION = regex.compile(
    r"(?<![=/\w])@(?P<name>(?P<user>[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\w+)?)",
    regex.IGNORECASE,
)
# twitter-text's end_mention_match: a mention followed by these is not one.
_NOT_AFTER_MENTION = regex.compile(
    r"[@\uff20\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f]|://"
)


def instance_limits(instance: Mapping[str, Any]) -> dict[str, Any]:
    """Return the limits Hayon keeps from a /api/v2/instance answer (missing ones defaulted)."""
    configuration = instance.get("configuration") or {}
    statuses = configuration.get("statuses") or {}
    media = configuration.get("media_attachments") or {}
    found = {
        "max_characters": statuses.get("max_characters"),
        "max_media_attachments": statuses.get("max_media_attachments"),
        "characters_reserved_per_url": statuses.get("characters_reserved_per_url"),
        "description_limit": media.get("description_limit"),
        "image_size_limit": media.get("image_size_limit"),
        "video_size_limit": media.get("video_size_limit"),
        "supported_mime_types": media.get("supported_mime_types"),
    }
    return {
        name: DEFAULT_LIMITS[name] if value is None else value for name, value in found.items()
    }


def countable_text(text: str, reserved_per_url: int) -> str:
    """Return the text Mastodon measures: links as placeholders, mentions without domains."""
    if not text.strip():
        return ""

    entities = [
        (link.start, link.end, "x" * reserved_per_url)
        for link in find_links(text, require_scheme=True)
    ]
    for match in _MENTION.finditer(text):
        if not _NOT_AFTER_MENTION.match(text, match.end()):
            entities.append((match.start(), match.end(), "@" + match.group("user")))
    entities.sort()

    parts, position = [], 0
    for start, end, replacement in entities:
        if start < position:
            continue
        parts += [text[position:start], replacement]
        position = end
    parts.append(text[position:])
    return "".join(parts)


def status_length(text: str, spoiler_text: str = "", reserved_per_url: int = 23) -> int:
    """Return the length Mastodon checks against max_characters."""
    return grapheme_count(spoiler_text + countable_text(text, reserved_per_url))


class MastodonRules(PlatformRules):
    platform = "mastodon"
    options_taken = frozenset({"visibility", "spoiler_text", "langs"})
    unit = "characters"

    def instance(self, account: Account) -> dict[str, Any]:
        return {**DEFAULT_LIMITS, **(account.limits or {})}

    def limits(self, account: Account) -> Limits:
        known = self.instance(account)
        types = tuple(known["supported_mime_types"])
        return Limits(
            text=int(known["max_characters"]),
            media=int(known["max_media_attachments"]),
            # The worker re-encodes larger images to fit (media.prepare.for_mastodon), so
            # only what is too big to prepare at all is refused here.
            image_bytes=max(int(known["image_size_limit"]), MAX_SOURCE_IMAGE_BYTES),
            image_types=tuple(t for t in types if t.startswith("image/")),
            video_types=tuple(t for t in types if t.startswith("video/")),
            video_bytes=int(known["video_size_limit"]),
            alt=int(known["description_limit"]),
        )

    def measure(self, text: str, account: Account, options: Mapping[str, Any]) -> int:
        reserved = int(self.instance(account)["characters_reserved_per_url"])
        return status_length(text, options.get("spoiler_text") or "", reserved)


rules = MastodonRules()

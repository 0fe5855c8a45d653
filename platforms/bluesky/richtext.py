"""Facets for a Bluesky post: links, #tags and resolved @mentions, in UTF-8 byte offsets.

Link and tag detection is the atproto SDK's port of the reference TypeScript detector, so we
find exactly what Bluesky's own app would. Mentions need the handle resolved to a DID; a handle
that does not resolve stays plain text and is reported back as a warning.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from atproto import models
from atproto_client.utils.facet_detection import detect_facets, detect_mentions


@dataclass
class RichText:
    text: str
    facets: list[models.AppBskyRichtextFacet.Main] = field(default_factory=list)
    unresolved_mentions: list[str] = field(default_factory=list)


def build_rich_text(text: str, resolve_handle: Callable[[str], str | None]) -> RichText:
    """Return the text with its facets; resolve_handle maps a handle to a DID or None."""
    facets = list(detect_facets(text))
    unresolved = []

    for mention in detect_mentions(text):
        did = resolve_handle(mention.handle)
        if did is None:
            unresolved.append(mention.handle)
            continue
        facets.append(
            models.AppBskyRichtextFacet.Main(
                features=[models.AppBskyRichtextFacet.Mention(did=did)],
                index=models.AppBskyRichtextFacet.ByteSlice(
                    byte_start=mention.byte_start, byte_end=mention.byte_end
                ),
            )
        )

    facets.sort(key=lambda facet: facet.index.byte_start)
    return RichText(text=text, facets=facets, unresolved_mentions=unresolved)

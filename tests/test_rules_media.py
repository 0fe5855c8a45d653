"""Media rules per platform: how many, which types, how large, what shape, how much alt text."""

import pytest

from platforms.models import Account
from platforms.registry import get_rules
from platforms.rules import MediaInfo

MB = 1_000_000


def image(content_type="image/jpeg", size=500_000, width=1080, height=1080, alt="A cat"):
    return MediaInfo(content_type, size, width, height, alt)


def codes(platform: str, media, text="hello", limits=None) -> list[str]:
    account = Account(platform=platform, handle="alice", limits=limits or {})
    return [p.code for p in get_rules(platform).check(account, text, media).errors]


@pytest.mark.parametrize(
    ("platform", "most"),
    [("bluesky", 4), ("mastodon", 4), ("instagram", 10), ("threads", 20), ("tumblr", 10)],
)
def test_it_takes_up_to_the_platforms_number_of_images(platform, most):
    assert codes(platform, [image()] * most) == []
    assert codes(platform, [image()] * (most + 1)) == ["too_many_media"]


def test_it_reads_the_mastodon_attachment_limit_from_the_instance():
    assert codes("mastodon", [image()] * 6, limits={"max_media_attachments": 6}) == []


def test_it_requires_an_image_on_instagram_and_text_or_image_elsewhere():
    assert codes("instagram", [], text="caption only") == ["media_required"]
    assert codes("mastodon", [], text="  ") == ["text_required"]
    assert codes("mastodon", [image()], text="") == []


@pytest.mark.parametrize(
    ("platform", "content_type", "accepted"),
    [
        ("instagram", "image/png", True),  # converted to JPEG in the worker
        ("instagram", "image/gif", False),
        ("threads", "image/webp", False),
        ("bluesky", "image/webp", True),
        ("bluesky", "video/mp4", False),
        ("facebook", "image/gif", True),
    ],
)
def test_it_accepts_only_the_types_a_platform_takes(platform, content_type, accepted):
    found = codes(platform, [image(content_type)])

    assert (found == []) is accepted, found


def test_it_takes_the_mime_types_the_mastodon_instance_lists():
    limits = {"supported_mime_types": ["image/jpeg", "video/mp4"]}

    assert codes("mastodon", [image("image/png")], limits=limits) == ["media_type_refused"]
    assert codes("mastodon", [image("video/mp4", size=5 * MB)], limits=limits) == []


def test_it_refuses_a_mastodon_video_next_to_images():
    limits = {"supported_mime_types": ["image/jpeg", "video/mp4"]}

    found = codes("mastodon", [image("video/mp4"), image()], limits=limits)

    assert found == ["video_not_alone"]


@pytest.mark.parametrize(
    ("platform", "size", "accepted"),
    [
        ("instagram", 8 * MB, True),
        ("instagram", 8 * MB + 1, False),
        ("facebook", 4 * MB + 1, False),
        # Over the instance's limit is fine: the worker re-encodes it to fit.
        ("mastodon", 16 * 1024 * 1024 + 1, True),
        ("mastodon", 50 * 1024 * 1024 + 1, False),
    ],
)
def test_it_refuses_files_over_the_platforms_size_limit(platform, size, accepted):
    assert (codes(platform, [image(size=size)]) == []) is accepted


@pytest.mark.parametrize(
    ("width", "height", "accepted"),
    [(1080, 1350, True), (1080, 1351, False), (1910, 1000, True), (1911, 1000, False)],
)
def test_it_keeps_instagram_images_between_4_5_and_1_91_1(width, height, accepted):
    found = codes("instagram", [image(width=width, height=height)])

    assert (found == []) is accepted, found


def test_it_counts_alt_text_the_way_each_platform_does():
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"

    # Bluesky's app allows 2,000 graphemes of alt text; Mastodon's instance 1,500 code points.
    assert codes("bluesky", [image(alt=family * 2000)]) == []
    assert codes("bluesky", [image(alt="a" * 2001)]) == ["alt_too_long"]
    assert codes("mastodon", [image(alt="a" * 1500)]) == []
    assert codes("mastodon", [image(alt=family * 215)]) == ["alt_too_long"]
    assert codes("mastodon", [image(alt="a" * 600)], limits={"description_limit": 500}) == [
        "alt_too_long"
    ]

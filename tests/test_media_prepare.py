"""Per-platform preparation with Pillow: touch an image only when the platform needs it."""

import io

import pytest
from PIL import Image

from media import prepare
from media.images import NotAnImage, inspect_image
from tests.support.images import encode, gradient, noisy_png, small_jpeg, small_png


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_bluesky_gets_a_small_image_byte_for_byte():
    data = small_png(640, 480)

    prepared = prepare.for_bluesky(data)

    assert prepared.data == data
    assert (prepared.content_type, prepared.width, prepared.height) == ("image/png", 640, 480)


def test_bluesky_gets_a_large_image_as_a_jpeg_under_the_limit_with_its_shape():
    data = noisy_png(1500, 1000)

    prepared = prepare.for_bluesky(data)

    assert prepared.size <= 1_000_000
    assert prepared.content_type == "image/jpeg"
    image = opened(prepared.data)
    assert image.format == "JPEG"
    assert image.size == (prepared.width, prepared.height)
    assert prepared.width / prepared.height == pytest.approx(1.5, rel=0.01)


def test_a_turned_photo_is_measured_and_sent_upright():
    image = gradient(400, 200)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = encode(image, "JPEG", exif=exif.tobytes())

    facts = inspect_image(data)
    reencoded = prepare.for_bluesky(data, max_bytes=len(data) - 1)

    assert (facts.width, facts.height) == (200, 400)
    assert (reencoded.width, reencoded.height) == (200, 400)


def test_transparency_is_laid_on_white_when_converting_to_jpeg():
    image = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    data = encode(image, "PNG")

    prepared = prepare.for_instagram(data)

    assert opened(prepared.data).getpixel((25, 25)) == pytest.approx((255, 255, 255), abs=2)


@pytest.mark.parametrize(
    ("size", "fits"),
    [
        ((1080, 1350), True),
        ((1080, 1080), True),
        ((1910, 1000), True),
        ((1000, 1500), False),
        ((3000, 1000), False),
    ],
)
def test_instagram_takes_ratios_from_4_5_to_1_91_1_without_cropping(size, fits):
    problem = prepare.instagram_ratio_problem(*size)

    assert (problem is None) == fits
    if not fits:
        assert "crop" in problem


def test_instagram_gets_a_jpeg_at_most_1440_wide_from_a_png():
    data = small_png(2000, 1600)

    prepared = prepare.for_instagram(data)

    assert prepared.content_type == "image/jpeg"
    assert (prepared.width, prepared.height) == (1440, 1152)
    assert opened(prepared.data).format == "JPEG"


def test_instagram_gets_a_fitting_jpeg_as_is():
    data = small_jpeg(1080, 1080)

    assert prepare.for_instagram(data).data == data


def test_instagram_preparation_refuses_an_image_that_needs_a_crop():
    with pytest.raises(prepare.CannotPrepare, match="4:5"):
        prepare.for_instagram(small_jpeg(500, 1000))


def test_mastodon_gets_an_accepted_image_as_is_and_converts_an_unlisted_type():
    configuration = {
        "media_attachments": {
            "supported_mime_types": ["image/jpeg", "image/png", "video/mp4"],
            "image_size_limit": 10_000_000,
            "image_matrix_limit": 16_777_216,
        }
    }
    png = small_png()
    webp = encode(gradient(300, 200), "WEBP")

    assert prepare.for_mastodon(png, configuration).data == png
    converted = prepare.for_mastodon(webp, configuration)
    assert converted.content_type == "image/jpeg"
    assert (converted.width, converted.height) == (300, 200)


def test_mastodon_gets_an_image_within_the_byte_limit_kept_on_the_account():
    account_limits = {"image_size_limit": 200_000, "supported_mime_types": ["image/png"]}
    data = noisy_png(600, 400)

    prepared = prepare.for_mastodon(data, account_limits)

    assert prepared.size <= 200_000
    assert prepared.width / prepared.height == pytest.approx(1.5, rel=0.02)


def test_a_file_that_is_not_an_image_is_refused_everywhere():
    with pytest.raises(NotAnImage):
        prepare.for_bluesky(b"GIF89a but not really")
    with pytest.raises(NotAnImage):
        prepare.for_instagram(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)


def test_a_thumbnail_keeps_the_shape_within_480_pixels():
    thumb = prepare.thumbnail(small_png(1200, 600))

    assert (thumb.width, thumb.height) == (480, 240)
    assert opened(thumb.data).format == "JPEG"

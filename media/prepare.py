"""Per-platform image preparation, run in the worker just before a platform call.

Each function takes the stored bytes and returns what the platform accepts, touching the
image only when it has to: an image that already fits is passed through byte for byte.
Re-encoded images are JPEG (transparency flattened onto white), upright per their EXIF
orientation, with the aspect ratio kept.
"""

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

from PIL import Image, ImageOps

from media.images import inspect_image, open_image

BLUESKY_MAX_BYTES = 1_000_000

INSTAGRAM_MIN_RATIO = 4 / 5
INSTAGRAM_MAX_RATIO = 1.91
INSTAGRAM_MAX_WIDTH = 1440
INSTAGRAM_MAX_BYTES = 8_000_000

# Mastodon's defaults (app/models/media_attachment.rb) for instances that do not say.
MASTODON_IMAGE_BYTES = 16 * 1024 * 1024
MASTODON_IMAGE_PIXELS = 8_294_400

JPEG_QUALITIES = (90, 82, 75, 68, 60)
THUMBNAIL_SIDE = 480


@dataclass(frozen=True)
class PreparedImage:
    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.data)


class CannotPrepare(ValueError):
    """The image cannot be made acceptable without a change the user did not choose."""


def as_is(data: bytes) -> PreparedImage:
    facts = inspect_image(data)
    return PreparedImage(data, facts.content_type, facts.width, facts.height)


def upright_rgb(data: bytes) -> Image.Image:
    """Return the first frame, turned per EXIF, with any transparency laid on white."""
    image = ImageOps.exif_transpose(open_image(data))
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


def encode_jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def scaled(image: Image.Image, factor: float) -> Image.Image:
    width = max(1, round(image.width * factor))
    height = max(1, round(image.height * factor))
    return image.resize((width, height), Image.Resampling.LANCZOS)


def jpeg_under(image: Image.Image, max_bytes: int, qualities: Iterable[int] = JPEG_QUALITIES):
    """Return the best JPEG of the image within max_bytes, shrinking the pixels if needed."""
    for _ in range(8):
        data = b""
        for quality in qualities:
            data = encode_jpeg(image, quality)
            if len(data) <= max_bytes:
                return PreparedImage(data, "image/jpeg", image.width, image.height)

        # Bytes grow roughly with the pixel count: shrink both sides by the square root.
        factor = min(0.9, math.sqrt(max_bytes / len(data)) * 0.95)
        image = scaled(image, factor)

    raise CannotPrepare(f"could not bring the image under {max_bytes} bytes")


def fit_pixels(image: Image.Image, max_pixels: int | None, max_width: int | None = None):
    factor = 1.0
    if max_pixels and image.width * image.height > max_pixels:
        factor = math.sqrt(max_pixels / (image.width * image.height))
    if max_width and image.width * factor > max_width:
        factor = max_width / image.width
    return scaled(image, factor) if factor < 1.0 else image


def for_bluesky(data: bytes, max_bytes: int = BLUESKY_MAX_BYTES) -> PreparedImage:
    """Return the image for a Bluesky blob: as is when small enough, else a JPEG under the cap.

    The returned width and height are the ones to send as the embed's aspectRatio.
    """
    if len(data) <= max_bytes:
        return as_is(data)
    return jpeg_under(upright_rgb(data), max_bytes)


def instagram_ratio_problem(width: int, height: int) -> str | None:
    """Return why Instagram would need a crop for this size, or None when it fits as is.

    For compose-time checks (platforms/instagram/rules.py): Instagram takes aspect ratios from
    4:5 (portrait) to 1.91:1 (landscape) and Hayon never crops without being asked.
    """
    if not width or not height:
        return None
    ratio = width / height
    if ratio < INSTAGRAM_MIN_RATIO - 0.005:
        return f"{width}x{height} is taller than Instagram's 4:5; crop it to 4:5 or wider"
    if ratio > INSTAGRAM_MAX_RATIO + 0.005:
        return f"{width}x{height} is wider than Instagram's 1.91:1; crop it to 1.91:1 or taller"
    return None


def for_instagram(data: bytes) -> PreparedImage:
    """Return a JPEG Instagram accepts: at most 1440 px wide and 8 MB, ratio unchanged.

    Raise CannotPrepare when the ratio is outside 4:5..1.91:1 (the rules refuse those first).
    """
    facts = inspect_image(data)
    problem = instagram_ratio_problem(facts.width, facts.height)
    if problem:
        raise CannotPrepare(problem)

    fits = facts.width <= INSTAGRAM_MAX_WIDTH and len(data) <= INSTAGRAM_MAX_BYTES
    if facts.content_type == "image/jpeg" and fits:
        return PreparedImage(data, facts.content_type, facts.width, facts.height)

    image = fit_pixels(upright_rgb(data), None, INSTAGRAM_MAX_WIDTH)
    return jpeg_under(image, INSTAGRAM_MAX_BYTES)


def mastodon_limits(limits: dict) -> tuple[int, int, tuple[str, ...]]:
    """Return (max bytes, max pixels, image types) from an instance's limits.

    Takes either the `configuration` object of /api/v2/instance (with `media_attachments`)
    or the flat dict the Mastodon rules keep on the account (`image_size_limit`, ...).
    """
    media = (limits or {}).get("media_attachments") or limits or {}
    declared = media.get("supported_mime_types") or ()
    types = tuple(t for t in declared if t.startswith("image/"))
    return (
        int(media.get("image_size_limit") or MASTODON_IMAGE_BYTES),
        int(media.get("image_matrix_limit") or MASTODON_IMAGE_PIXELS),
        types or ("image/jpeg", "image/png", "image/gif", "image/webp"),
    )


def for_mastodon(data: bytes, limits: dict | None = None) -> PreparedImage:
    """Return the image within the instance's size, pixel and type limits.

    `limits` as mastodon_limits takes them; without them Mastodon's defaults apply. Mastodon
    scales large images itself, but only after accepting the upload, so the byte limit is
    the hard one.
    """
    max_bytes, max_pixels, types = mastodon_limits(limits or {})
    facts = inspect_image(data)
    if facts.content_type in types and len(data) <= max_bytes:
        return PreparedImage(data, facts.content_type, facts.width, facts.height)

    image = fit_pixels(upright_rgb(data), max_pixels)
    return jpeg_under(image, max_bytes)


def thumbnail(data: bytes, side: int = THUMBNAIL_SIDE) -> PreparedImage:
    """Return a JPEG at most `side` pixels on its longer edge, for the post pages."""
    image = upright_rgb(data)
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return PreparedImage(encode_jpeg(image, 80), "image/jpeg", image.width, image.height)

"""What an image really is, read from its bytes with Pillow: never from a name or a header."""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# The types Hayon accepts at all: every platform takes JPEG and PNG; GIF and WebP are taken by
# most and converted for the others (media/prepare.py).
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
}
# Pillow's format names for them.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}

# Well above any platform's limit (Mastodon's default is 8,294,400 pixels per image, which it
# scales down to); above this an upload is refused rather than decoded.
MAX_PIXELS = 50_000_000

EXIF_ORIENTATION = 0x0112
# EXIF orientations that turn the picture by 90 degrees: displayed width and height swap.
TURNED = {5, 6, 7, 8}


class NotAnImage(ValueError):
    """The bytes are not an image Hayon can read (or one too large to decode safely)."""


@dataclass(frozen=True)
class ImageFacts:
    content_type: str
    width: int
    height: int


def open_image(data: bytes) -> Image.Image:
    """Return the image, refusing pixel bombs; raise NotAnImage when Pillow cannot read it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, Image.DecompressionBombWarning) as exc:
        raise NotAnImage(str(exc)) from exc
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise NotAnImage(str(exc)) from exc

    if image.width * image.height > MAX_PIXELS:
        raise NotAnImage(f"{image.width}x{image.height} is more than {MAX_PIXELS} pixels")
    return image


def inspect_image(data: bytes) -> ImageFacts:
    """Return the real type and displayed size of an image; raise NotAnImage otherwise."""
    try:
        # verify() walks the whole file (PNG checksums, truncated data) and spends the image,
        # so it gets an image of its own.
        open_image(data).verify()
    except NotAnImage:
        raise
    except Exception as exc:
        raise NotAnImage(f"the image data is damaged: {exc}") from exc

    image = open_image(data)
    content_type = FORMATS.get(image.format or "")
    if content_type is None:
        raise NotAnImage(f"{image.format} images are not accepted")

    width, height = image.size
    if image.getexif().get(EXIF_ORIENTATION) in TURNED:
        width, height = height, width

    return ImageFacts(content_type, width, height)

"""Images made on the spot for media tests: real files Pillow writes, of a chosen kind."""

import io
import os

from PIL import Image


def gradient(width: int, height: int) -> Image.Image:
    image = Image.new("RGB", (width, height))
    image.putdata(
        [(x * 255 // width, y * 255 // height, 128) for y in range(height) for x in range(width)]
    )
    return image


def encode(image: Image.Image, kind: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def small_png(width: int = 300, height: int = 200) -> bytes:
    """A PNG of a few kilobytes."""
    return encode(gradient(width, height), "PNG")


def small_jpeg(width: int = 300, height: int = 200) -> bytes:
    return encode(gradient(width, height), "JPEG", quality=85)


def noisy_png(width: int, height: int) -> bytes:
    """A PNG of random pixels: it does not compress, so it is about 3 bytes per pixel."""
    return encode(Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)), "PNG")

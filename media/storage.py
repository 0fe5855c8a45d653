"""Where media bytes live. The local backend keeps them under HAYON_DATA_DIR/media; the S3
backend (media/s3.py) is used when HAYON_S3_BUCKET is set."""

from pathlib import Path

from django.conf import settings


def _local_path(key: str) -> Path:
    root = (settings.HAYON_DATA_DIR / "media").resolve()
    path = (root / key).resolve()
    if root not in path.parents:
        raise ValueError(f"media key escapes the media folder: {key!r}")
    return path


def read_bytes(key: str) -> bytes:
    """Return the stored object's bytes."""
    return _local_path(key).read_bytes()


def fetch_url(key: str) -> str:
    """Return a URL a platform can fetch the object from."""
    return f"{settings.HAYON_PUBLIC_URL}/media/{key}"

"""Where media bytes live: a local folder or an S3-compatible bucket, behind one interface.

Each Media row names its backend, fixed when the upload was signed. New uploads go to S3 when
HAYON_S3_BUCKET is set and to the local folder (HAYON_MEDIA_ROOT) otherwise. Both give the same
flow: a signed URL the browser sends the bytes to, HEAD, read, a copy pinned to the checked
ETag, delete, and a URL platforms can fetch from.
"""

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from botocore.config import Config
from botocore.exceptions import ClientError
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from storages.backends.s3 import S3Storage

from media.models import Media, MediaBackend

UPLOAD_SALT = "hayon.media.upload"
FETCH_SALT = "hayon.media.fetch"


class StorageError(Exception):
    """The storage could not do what was asked (unreachable, refused, or changed under us)."""


@dataclass(frozen=True)
class StoredObject:
    """What the storage says about an object; content_type is None where it keeps none."""

    size: int
    etag: str
    content_type: str | None


@dataclass(frozen=True)
class UploadTarget:
    url: str
    method: str
    headers: dict[str, str] = field(default_factory=dict)
    expires_at: datetime | None = None


class Backend(Protocol):
    name: str

    def upload_target(self, media: Media) -> UploadTarget: ...
    def head(self, key: str) -> StoredObject | None: ...
    def read(self, key: str) -> bytes: ...
    def save(self, key: str, data: bytes, content_type: str) -> None: ...
    def copy(self, source: str, destination: str, *, etag: str) -> None: ...
    def delete(self, key: str) -> None: ...
    def fetch_url(self, key: str) -> str: ...
    def list(self, prefix: str) -> Iterator[tuple[str, datetime]]: ...


def upload_expiry() -> datetime:
    return timezone.now() + timedelta(seconds=settings.HAYON_MEDIA_UPLOAD_TTL)


class LocalBackend:
    """Files under HAYON_MEDIA_ROOT; uploads and fetches go through app URLs signed by Django."""

    name = MediaBackend.LOCAL

    def __init__(self, root: Path):
        self.root = root.resolve()

    def path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise StorageError(f"media key escapes the media folder: {key!r}")
        return path

    def upload_target(self, media: Media) -> UploadTarget:
        token = signing.dumps(
            {"media": str(media.uuid), "key": media.key, "type": media.content_type},
            salt=UPLOAD_SALT,
            compress=True,
        )
        path = reverse("media-local-upload", kwargs={"token": token})
        return UploadTarget(
            url=f"{settings.HAYON_PUBLIC_URL}{path}",
            method="PUT",
            headers={"Content-Type": media.content_type},
            expires_at=upload_expiry(),
        )

    def head(self, key: str) -> StoredObject | None:
        try:
            stat = self.path(key).stat()
        except FileNotFoundError:
            return None
        return StoredObject(stat.st_size, f"{stat.st_size}-{stat.st_mtime_ns}", None)

    def read(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError as exc:
            raise StorageError(f"no media object at {key}") from exc

    def save(self, key: str, data: bytes, content_type: str) -> None:
        self.write_chunks(key, [data])

    def write_chunks(self, key: str, chunks) -> int:
        """Write the chunks to key atomically (readers never see half a file); return size."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as out:
            try:
                for chunk in chunks:
                    size += len(chunk)
                    out.write(chunk)
            except BaseException:
                os.unlink(out.name)
                raise
        os.replace(out.name, path)
        return size

    def copy(self, source: str, destination: str, *, etag: str) -> None:
        current = self.head(source)
        if current is None or current.etag != etag:
            raise StorageError(f"{source} changed or vanished after it was checked")
        self.save(destination, self.read(source), "")

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def list(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """Yield (key, last modified) of every object whose key starts with prefix."""
        for path in self.root.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key.startswith(prefix):
                yield key, datetime.fromtimestamp(path.stat().st_mtime, UTC)

    def fetch_url(self, key: str) -> str:
        token = signing.dumps(key, salt=FETCH_SALT)
        return f"{settings.HAYON_PUBLIC_URL}{reverse('media-local-file', kwargs={'token': token})}"


class S3Backend:
    """A bucket on S3 or any S3-compatible store, through boto3 and django-storages."""

    name = MediaBackend.S3

    def __init__(self, bucket: str, endpoint: str, public_endpoint: str, public_url: str):
        self.bucket = bucket
        self.public_url = public_url
        self.storage = self._storage(endpoint)
        # Browsers may reach the store at another address than the app does (a compose
        # network name vs localhost); a signature covers the host, so sign with theirs.
        self.browser_storage = self._storage(public_endpoint) if public_endpoint else self.storage

    def _storage(self, endpoint: str) -> S3Storage:
        return S3Storage(
            bucket_name=self.bucket,
            endpoint_url=endpoint or None,
            region_name=settings.HAYON_S3_REGION,
            access_key=settings.HAYON_S3_ACCESS_KEY_ID or None,
            secret_key=settings.HAYON_S3_SECRET_ACCESS_KEY or None,
            addressing_style=settings.HAYON_S3_ADDRESSING_STYLE,
            signature_version="s3v4",
            querystring_expire=settings.HAYON_MEDIA_FETCH_TTL,
            client_config=Config(
                signature_version="s3v4",
                s3={"addressing_style": settings.HAYON_S3_ADDRESSING_STYLE},
                connect_timeout=10,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )

    @property
    def client(self):
        return self.storage.connection.meta.client

    def upload_target(self, media: Media) -> UploadTarget:
        client = self.browser_storage.connection.meta.client
        url = client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": media.key, "ContentType": media.content_type},
            ExpiresIn=settings.HAYON_MEDIA_UPLOAD_TTL,
            HttpMethod="PUT",
        )
        return UploadTarget(
            url=url,
            method="PUT",
            headers={"Content-Type": media.content_type},
            expires_at=upload_expiry(),
        )

    def head(self, key: str) -> StoredObject | None:
        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageError(f"could not HEAD {key}: {exc}") from exc
        return StoredObject(answer["ContentLength"], answer["ETag"], answer.get("ContentType"))

    def read(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise StorageError(f"could not read {key}: {exc}") from exc

    def save(self, key: str, data: bytes, content_type: str) -> None:
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )
        except ClientError as exc:
            raise StorageError(f"could not write {key}: {exc}") from exc

    def copy(self, source: str, destination: str, *, etag: str) -> None:
        try:
            self.client.copy_object(
                Bucket=self.bucket,
                Key=destination,
                CopySource={"Bucket": self.bucket, "Key": source},
                # The presigned PUT stays valid for minutes: copy only the bytes we checked.
                CopySourceIfMatch=etag,
                MetadataDirective="COPY",
            )
        except ClientError as exc:
            raise StorageError(f"could not copy {source} to {destination}: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            raise StorageError(f"could not delete {key}: {exc}") from exc

    def list(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"], item["LastModified"]
        except ClientError as exc:
            raise StorageError(f"could not list {prefix}: {exc}") from exc

    def fetch_url(self, key: str) -> str:
        if self.public_url:
            return f"{self.public_url}/{quote(key)}"
        return self.browser_storage.url(key, expire=settings.HAYON_MEDIA_FETCH_TTL)


@cache
def _s3_backend(bucket: str, endpoint: str, public_endpoint: str, public_url: str) -> S3Backend:
    return S3Backend(bucket, endpoint, public_endpoint, public_url)


def default_backend_name() -> str:
    """Return the backend new uploads go to: S3 when a bucket is configured."""
    return MediaBackend.S3 if settings.HAYON_S3_BUCKET else MediaBackend.LOCAL


def get_backend(name: str | None = None) -> Backend:
    """Return the backend called `name` (the default one when None), built from settings."""
    name = name or default_backend_name()
    if name == MediaBackend.LOCAL:
        return local_backend()

    if not settings.HAYON_S3_BUCKET:
        raise StorageError("media is stored in S3 but HAYON_S3_BUCKET is not set")
    return _s3_backend(
        settings.HAYON_S3_BUCKET,
        settings.HAYON_S3_ENDPOINT_URL,
        settings.HAYON_S3_PUBLIC_ENDPOINT_URL,
        settings.HAYON_S3_PUBLIC_URL,
    )


def local_backend() -> LocalBackend:
    return LocalBackend(Path(settings.HAYON_MEDIA_ROOT))


def backend_of(media: Media) -> Backend:
    return get_backend(media.backend)


def _backend_holding(key: str) -> Backend:
    name = Media.objects.filter(key=key).values_list("backend", flat=True).first()
    return get_backend(name)


def read_bytes(key: str, backend: str | None = None) -> bytes:
    """Return the stored object's bytes (from the backend of the media row holding `key`)."""
    return (get_backend(backend) if backend else _backend_holding(key)).read(key)


def fetch_url(key: str, backend: str | None = None) -> str:
    """Return a URL a platform can fetch the object from, valid for HAYON_MEDIA_FETCH_TTL."""
    return (get_backend(backend) if backend else _backend_holding(key)).fetch_url(key)

"""Helpers for API tests: accounts without a platform behind them, and real local uploads."""

import base64
import json
import time
from urllib.parse import urlsplit

import requests
from rest_framework.test import APIClient

from platforms.models import Account
from tests.support.images import small_png

# A credential value no response, page or log line may ever contain.
PLANTED_SECRET = "planted-secret-3f9c1e7a"


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def jwt(did: str, scope: str) -> str:
    """A token shaped like a PDS's, valid for a day, whose signature is the planted secret."""
    claims = {"sub": did, "scope": scope, "exp": int(time.time()) + 86_400}
    return f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims)}.{PLANTED_SECRET}"


def bluesky_session(handle: str, did: str) -> str:
    """A session string as the atproto SDK exports it, with planted tokens."""
    tokens = [jwt(did, "com.atproto.access"), jwt(did, "com.atproto.refresh")]
    return ":::".join([handle, did, *tokens, ""])


def account_for(user, handle: str = "", platform: str = "bluesky", **fields) -> Account:
    """A connected account row, as connecting would store it; no platform is called."""
    handle = handle or f"{user.username}.test"
    did = f"did:plc:{handle.replace('.', '-')}"
    credentials = {"session": bluesky_session(handle, did), "app_password": PLANTED_SECRET}
    return Account.objects.create(
        owner=user,
        platform=platform,
        handle=handle,
        remote_id=did,
        credentials=credentials,
        **fields,
    )


def upload_image(api: APIClient, data: bytes | None = None) -> int:
    """Sign an upload, send the bytes to the local backend's signed URL, return the media id."""
    data = data or small_png(40, 30)
    signed = api.post(
        "/api/posts/media/upload/",
        {"filename": "photo.png", "content_type": "image/png", "size": len(data)},
        format="json",
    )
    assert signed.status_code == 201, signed.json()

    target = signed.json()
    sent = APIClient().generic(
        target["method"],
        urlsplit(target["upload_url"]).path,
        data,
        content_type=target["headers"]["Content-Type"],
    )
    assert sent.status_code == 200, sent.content
    return target["media_id"]


def send_upload(api: APIClient, data: bytes, content_type: str, filename: str = "picture") -> int:
    """Sign an upload and send the bytes over HTTP like a browser; return the media id.

    For upload URLs a real server answers (S3, or the live test server); `upload_image`
    covers the local backend through the test client.
    """
    signed = api.post(
        "/api/posts/media/upload/",
        {"filename": filename, "content_type": content_type, "size": len(data)},
        format="json",
    )
    assert signed.status_code == 201, signed.json()
    target = signed.json()

    sent = requests.request(
        target["method"], target["upload_url"], data=data, headers=target["headers"], timeout=30
    )
    assert sent.status_code == 200, sent.text
    return target["media_id"]


def create_post(api: APIClient, accounts: list[Account], **fields) -> dict:
    body = {"text": "Hello from Hayon", "accounts": [a.pk for a in accounts], **fields}
    response = api.post("/api/posts/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()

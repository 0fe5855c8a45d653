"""Helpers for tests that publish through the fake platforms: stored images, connected
accounts and waiting for a post to settle. The fakes themselves are in meta.py and tumblr.py."""

import io

from PIL import Image

from media.models import Media
from posts.models import Delivery, Post, PostStatus
from tests.conftest import wait_for
from tests.support.api import send_upload

SETTLED = {
    PostStatus.COMPLETED,
    PostStatus.PARTIAL_SUCCESS,
    PostStatus.FAILED,
    PostStatus.CANCELLED,
}


def jpeg_bytes(width: int = 1080, height: int = 1080, color=(220, 90, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def png_bytes(width: int = 1080, height: int = 1080, color=(40, 90, 220)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def uploaded_image(api, *, width: int = 1080, height: int = 1080, png: bool = False) -> int:
    """Upload an image the way a browser does (sign, then send the bytes); return its id."""
    data = png_bytes(width, height) if png else jpeg_bytes(width, height)
    name, content_type = ("photo.png", "image/png") if png else ("photo.jpg", "image/jpeg")
    return send_upload(api, data, content_type, name)


def connect(api, platform: str, body: dict) -> dict:
    response = api.post(f"/api/accounts/{platform}/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def create_post(api, text: str, accounts: list[int], media: list[int] = (), alt: str = "") -> dict:
    body = {"text": text, "accounts": accounts, "media": [{"id": m, "alt": alt} for m in media]}
    response = api.post("/api/posts/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def settled(post_id: int, timeout: float = 30) -> Post:
    """Wait until the worker has finished with every delivery of the post; return it."""

    def done():
        post = Post.objects.get(pk=post_id)
        return post if post.status in SETTLED else None

    done.__doc__ = f"post {post_id} settled"
    return wait_for(done, timeout)


def delivery_in(post_id: int, status: str, timeout: float = 30) -> Delivery:
    def reached():
        return Delivery.objects.filter(post_id=post_id, status=status).first()

    reached.__doc__ = f"a delivery of post {post_id} is {status}"
    return wait_for(reached, timeout)


def media_key(media_id: int) -> str:
    """Return where a post's image is stored now (it moves under posts/ when used)."""
    return Media.objects.get(pk=media_id).key


def reconnect_reason(api, account_id: int) -> str:
    """Return why the API shows the account as needing a reconnect (fail if it does not)."""
    shown = api.get(f"/api/accounts/{account_id}/").json()
    assert shown["health"] == "needs_reconnect", shown
    return shown["health_reason"]

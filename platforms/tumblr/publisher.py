"""Publish to a Tumblr blog as an NPF post: text blocks, image blocks and tags, with the
images sent in the same multipart request (a `json` part plus one part per image).

Tumblr has no idempotency key. Each post gets a slug ending in a marker derived from the
delivery's idempotency key; after an ambiguous answer (a 504 has been seen with the post
created), reconcile looks for that slug among the blog's latest posts.
"""

import json
import logging
import mimetypes
from typing import Any

import regex
from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify

from platforms.base import Publisher, PublishRequest, PublishResult
from platforms.errors import (
    AuthExpired,
    PermanentError,
    PublishError,
    RateLimited,
    ReconnectRequired,
    TransientError,
    Unconfirmed,
)
from platforms.http import json_of, retry_after, send
from platforms.models import Account
from platforms.tumblr import auth
from platforms.tumblr.rules import text_blocks

logger = logging.getLogger(__name__)

HASHTAG = regex.compile(r"(?<![\p{L}\p{N}_&/])#([\p{L}\p{N}_][\p{L}\p{N}_-]*)")
DAILY_LIMIT = 8023
RECONCILE_DEPTH = 20


def api_url(path: str) -> str:
    return f"{settings.HAYON_TUMBLR_API_URL.rstrip('/')}/v2/{path.lstrip('/')}"


def tumblr_error(response, *, creates: bool = False) -> PublishError:
    """Return the shared error for a failed Tumblr response."""
    body = json_of(response)
    errors = body.get("errors") if isinstance(body.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    code = first.get("code")
    detail = first.get("detail") or first.get("title") or (body.get("meta") or {}).get("msg")
    detail = detail or response.reason or "error"
    status = response.status_code

    if status == 401:
        return AuthExpired(f"Tumblr did not accept the token: {detail}", http_status=status)
    if status == 429:
        wait = retry_after(response)
        return RateLimited("Tumblr asked us to slow down", retry_after=wait, http_status=status)
    if code == DAILY_LIMIT:
        return RateLimited(
            f"Tumblr's daily post limit is reached: {detail}",
            retry_after=settings.HAYON_QUOTA_RETRY_SECONDS,
            http_status=status,
            code="quota_exhausted",
        )
    if status == 503 and errors:
        # Tumblr answers 503 with its own error body when posting is switched off for a
        # while: nothing was made. A bare 503 (a proxy in front of it) says nothing of the kind.
        return TransientError(f"Tumblr is not taking posts right now: {detail}", http_status=503)
    if status >= 500 and creates:
        return Unconfirmed(
            f"Tumblr answered {status} to the post; checking the blog before retrying",
            http_status=status,
        )
    if status >= 500:
        return TransientError(f"Tumblr answered {status}: {detail}", http_status=status)
    return PermanentError(f"Tumblr refused the post: {detail}", http_status=status)


def tags_in(text: str, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Return the post's tags: #hashtags in the text, then any given ones, without repeats."""
    found = [match.group(1) for match in HASHTAG.finditer(text)] + list(extra)
    return list(dict.fromkeys(tag for tag in found if tag))


def marker(idempotency_key: str) -> str:
    return "h" + slugify(idempotency_key).replace("-", "")[:12]


def slug_for(request: PublishRequest) -> str:
    words = slugify(request.text)[:40].strip("-")
    return (
        f"{words}-{marker(request.idempotency_key)}" if words else marker(request.idempotency_key)
    )


def npf_body(request: PublishRequest) -> tuple[dict[str, Any], list[tuple]]:
    """Return the NPF body and the multipart parts of its images."""
    content: list[dict[str, Any]] = []
    files: list[tuple] = []

    for index, item in enumerate(request.media):
        identifier = f"image{index}"
        extension = mimetypes.guess_extension(item.content_type) or ""
        media = {"type": item.content_type, "identifier": identifier}
        if item.width and item.height:
            media.update(width=item.width, height=item.height)
        block: dict[str, Any] = {"type": "image", "media": [media]}
        if item.alt:
            block["alt_text"] = item.alt
        content.append(block)
        files.append((identifier, (identifier + extension, item.read(), item.content_type)))

    # The same split the rules measure, so a line they accepted is never longer here.
    content.extend({"type": "text", "text": block} for block in text_blocks(request.text))

    body = {
        "content": content,
        "state": "published",
        "slug": slug_for(request),
        "tags": ",".join(tags_in(request.text, request.options.get("tags") or ())),
    }
    return body, files


class TumblrPublisher(Publisher):
    platform = "tumblr"

    def headers(self, account: Account) -> dict[str, str]:
        token = account.credentials.get("access_token")
        if not token:
            raise ReconnectRequired(f"{account.reconnect_message()}: no access token stored")
        if account.token_expires_at and account.token_expires_at <= timezone.now():
            # Tumblr tokens last ~42 minutes: renew first instead of spending a refused call.
            raise AuthExpired("The Tumblr access token has expired")
        return {"Authorization": f"Bearer {token}"}

    def post_url(self, account: Account, post_id: str) -> str:
        blog = account.base_url.rstrip("/") or f"https://{account.handle}.tumblr.com"
        return f"{blog}/post/{post_id}"

    def publish(self, account: Account, request: PublishRequest) -> PublishResult:
        headers = self.headers(account)
        body, images = npf_body(request)
        parts = [("json", (None, json.dumps(body), "application/json")), *images]

        response = send(
            "POST",
            api_url(f"blog/{account.remote_id}/posts"),
            label="Tumblr",
            creates=True,
            headers=headers,
            files=parts,
        )
        if response.status_code >= 400:
            raise tumblr_error(response, creates=True)

        answer = json_of(response).get("response") or {}
        post_id = str(answer.get("id_string") or answer.get("id") or "")
        if not post_id:
            raise Unconfirmed("Tumblr answered without a post id; checking the blog")
        return PublishResult(post_id, self.post_url(account, post_id))

    def reconcile(self, account: Account, request: PublishRequest) -> PublishResult | None:
        response = send(
            "GET",
            api_url(f"blog/{account.remote_id}/posts"),
            label="Tumblr",
            headers=self.headers(account),
            params={"limit": RECONCILE_DEPTH, "npf": "true"},
        )
        if response.status_code >= 400:
            raise tumblr_error(response)

        wanted = marker(request.idempotency_key)
        for post in (json_of(response).get("response") or {}).get("posts") or []:
            if str(post.get("slug") or "").endswith(wanted):
                post_id = str(post.get("id_string") or post.get("id"))
                return PublishResult(
                    post_id, post.get("post_url") or self.post_url(account, post_id)
                )
        return None

    def refresh_credentials(self, account: Account) -> None:
        credentials, expires_at = auth.refresh(account.credentials.get("refresh_token", ""))
        account.store_credentials({**account.credentials, **credentials}, expires_at=expires_at)
        logger.info("tumblr token renewed account=%s", account.pk)

    def check_account(self, account: Account) -> None:
        response = send("GET", api_url("user/info"), label="Tumblr", headers=self.headers(account))
        if response.status_code >= 400:
            raise tumblr_error(response)


publisher = TumblrPublisher()

"""A Mastodon instance fake for what mastodon-mock does not do: media that takes time.

Uploads answer 202 with no URL; `GET /api/v1/media/:id` answers 206 for the first
`processing_polls` calls and 200 with a URL after that (or whatever a test scripts, such as a
422 for media the instance could not process). A status naming unprocessed media is refused
with 422, as Mastodon does. Statuses honour Idempotency-Key. Accounts keep the instance URL
in base_url, so the worker needs no setting to reach this fake.
"""

import itertools
import re

from tests.fakes.server import Call, FakeServer, Reply
from tests.fakes.tumblr import multipart_parts

TOKEN = "fake-token"
_DESCRIPTION = re.compile(rb'name="description"\r\n\r\n(.*?)\r\n', re.S)


class MastodonMediaFake(FakeServer):
    def __init__(self, processing_polls: int = 2) -> None:
        super().__init__()
        self.processing_polls = processing_polls
        self.ids = itertools.count(100)
        self.media: dict[str, dict] = {}
        self.statuses: dict[str, dict] = {}
        self.by_key: dict[str, str] = {}
        # What /api/v2/instance announces for images; uploads are recorded in `uploads`.
        self.image_size_limit = 16_777_216
        self.uploads: list[dict] = []

        self.route("GET", "/api/v1/accounts/verify_credentials/?", self.me, "me")
        self.route("GET", "/api/v2/instance/?", self.instance, "instance")
        self.route("POST", "/api/v2/media", self.upload, "media_post")
        self.route("GET", r"/api/v1/media/(?P<id>\w+)", self.media_get, "media_get")
        self.route("POST", "/api/v1/statuses", self.status_post, "status_post")

    def env(self) -> dict[str, str]:
        return {}

    def reset(self) -> None:
        super().reset()
        with self.lock:
            self.media.clear()
            self.statuses.clear()
            self.by_key.clear()
            self.uploads.clear()

    def authorized(self, call: Call) -> bool:
        return call.headers.get("authorization") == f"Bearer {TOKEN}"

    def me(self, call: Call, groups: dict) -> Reply:
        if not self.authorized(call):
            return Reply(401, {"error": "The access token is invalid"})
        return Reply(200, {"id": "7", "username": "alice", "acct": "alice", "display_name": "A"})

    def instance(self, call: Call, groups: dict) -> Reply:
        host = self.url.split("://", 1)[1]
        statuses = {"max_characters": 500, "max_media_attachments": 4}
        media = {
            "image_size_limit": self.image_size_limit,
            "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
            "description_limit": 1500,
        }
        return Reply(
            200,
            {
                "domain": host,
                "version": "4.3.0",
                "api_versions": {"mastodon": 2},
                "configuration": {"statuses": statuses, "media_attachments": media},
            },
        )

    def upload(self, call: Call, groups: dict) -> Reply:
        media_id = str(next(self.ids))
        found = _DESCRIPTION.search(call.body)
        file_part = multipart_parts(call).get("file") or {}
        if len(file_part.get("data") or b"") > self.image_size_limit:
            return Reply(422, {"error": "Validation failed: File size must be less than limit"})
        with self.lock:
            self.uploads.append(file_part)
            self.media[media_id] = {
                "polls": 0,
                "description": found.group(1).decode() if found else None,
            }
        return Reply(202, self.attachment(media_id, ready=False))

    def media_get(self, call: Call, groups: dict) -> Reply:
        with self.lock:
            item = self.media.get(groups["id"])
            if item is None:
                return Reply(404, {"error": "Record not found"})
            item["polls"] += 1
            ready = item["polls"] > self.processing_polls
        return Reply(200 if ready else 206, self.attachment(groups["id"], ready=ready))

    def status_post(self, call: Call, groups: dict) -> Reply:
        key = call.headers.get("idempotency-key", "")
        body = self.params(call)
        with self.lock:
            if key in self.by_key:
                return Reply(200, self.statuses[self.by_key[key]])

            media_ids = [str(m) for m in body.get("media_ids") or []]
            if any(self.media[m]["polls"] <= self.processing_polls for m in media_ids):
                return Reply(422, {"error": "Validation failed: media is still processing"})

            status_id = str(next(self.ids))
            status = {
                "id": status_id,
                "url": f"{self.url}/@alice/{status_id}",
                "uri": f"{self.url}/users/alice/statuses/{status_id}",
                "content": body.get("status", ""),
                "visibility": body.get("visibility") or "public",
                "spoiler_text": body.get("spoiler_text") or "",
                "media_attachments": [self.attachment(m, ready=True) for m in media_ids],
            }
            self.statuses[status_id] = status
            if key:
                self.by_key[key] = status_id
        return Reply(200, status)

    def params(self, call: Call) -> dict:
        """Return the status parameters, sent as JSON or (Mastodon.py's default) as a form."""
        if call.body.startswith(b"{"):
            return call.json()
        form = call.form()
        params = {name: values[-1] for name, values in form.items()}
        params["media_ids"] = form.get("media_ids[]", [])
        return params

    def attachment(self, media_id: str, *, ready: bool) -> dict:
        return {
            "id": media_id,
            "type": "image",
            "url": f"{self.url}/media/{media_id}.png" if ready else None,
            "description": self.media.get(media_id, {}).get("description"),
        }

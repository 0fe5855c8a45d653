"""A fake Tumblr API v2 (api.tumblr.com) with its OAuth2 authorize screen and token endpoint.

It follows Tumblr's API reference: NPF posts sent as multipart (a `json` part plus one part
per media identifier), 201 with `response.id`, Tumblr's error payload (`meta` + `errors` with
codes such as 8001 bad NPF or a text block over 4,096 code points, 8005 bad media, 8023 daily
limit), 401 for an expired token, and refresh tokens that rotate: the old one stops working
once used. Tests script it with
`fail_next("create_post", Reply(504, ..., after_handling=True))` (a 504 after creating),
`expire(token)`, and read `posts` (each with its parsed `json` body and file parts).
"""

import itertools
import json
import secrets
import threading
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import Call, FakeServer, Reply

_ids = itertools.count(760_000_000_000)
# Code points in one NPF text block.
TEXT_BLOCK_LIMIT = 4096


def tumblr_error(status: int, msg: str, code: int, detail: str) -> Reply:
    return Reply(
        status,
        {
            "meta": {"status": status, "msg": msg},
            "response": [],
            "errors": [{"title": msg, "code": code, "detail": detail}],
        },
    )


def unauthorized() -> Reply:
    return tumblr_error(401, "Unauthorized", 1016, "Unable to authorize")


def multipart_parts(call: Call) -> dict[str, dict[str, Any]]:
    """Return the parts of a multipart/form-data body by name: content type, filename, bytes."""
    head = f"Content-Type: {call.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + call.body)
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        parts[name] = {
            "content_type": part.get_content_type(),
            "filename": part.get_filename(),
            "data": part.get_payload(decode=True),
        }
    return parts


class TumblrFake(FakeServer):
    client_id = "fake-tumblr-client"
    client_secret = "fake-tumblr-secret"
    scope = "basic write offline_access"

    def __init__(self) -> None:
        super().__init__()
        self.state_lock = threading.RLock()
        self.clear_state()
        self.route("GET", r"/oauth2/authorize", self.authorize, "authorize")
        self.route("POST", r"/v2/oauth2/token", self.token, "token")
        self.route("GET", r"/v2/user/info", self.user_info, "user_info")
        self.route("POST", r"/v2/blog/(?P<blog>[^/]+)/posts", self.create_post, "create_post")
        self.route("GET", r"/v2/blog/(?P<blog>[^/]+)/posts", self.list_posts, "list_posts")

    def clear_state(self) -> None:
        self.access: dict[str, str] = {}
        self.refresh: dict[str, str] = {}
        self.codes: dict[str, str] = {}
        self.users: dict[str, list[dict[str, str]]] = {}
        self.posts: list[dict[str, Any]] = []
        self.next_login = ""

    def reset(self) -> None:
        super().reset()
        with self.state_lock:
            self.clear_state()

    def route_names(self) -> list[str]:
        return [getattr(call, "route", "?") for call in self.calls]

    def add_user(self, *blog_names: str) -> tuple[str, dict[str, str]]:
        """Create a user with these blogs; return (user name, its token answer)."""
        user = "user-" + secrets.token_hex(3)
        self.users[user] = [
            {
                "name": name,
                "uuid": "t:" + secrets.token_urlsafe(9),
                "url": f"https://{name}.tumblr.com/",
                "title": name.title(),
            }
            for name in blog_names
        ]
        return user, self.issue(user)

    def issue(self, user: str) -> dict[str, Any]:
        access, refresh = "tu-" + secrets.token_urlsafe(12), "tr-" + secrets.token_urlsafe(12)
        with self.state_lock:
            self.access[access] = user
            self.refresh[refresh] = user
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": 2520,
            "token_type": "bearer",
            "scope": self.scope,
        }

    def expire(self, access_token: str) -> None:
        self.access.pop(access_token, None)

    def user_of(self, call: Call) -> str | None:
        header = call.headers.get("authorization", "")
        return self.access.get(header.removeprefix("Bearer "))

    def blog_of(self, user: str, wanted: str) -> dict[str, str] | None:
        for blog in self.users.get(user, []):
            if wanted in (blog["name"], blog["uuid"], f"{blog['name']}.tumblr.com"):
                return blog
        return None

    def authorize(self, call: Call, groups: dict) -> Reply:
        params = {k: v[-1] for k, v in call.query.items()}
        if params.get("client_id") != self.client_id or params.get("response_type") != "code":
            return Reply(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(8)
        self.codes[code] = self.next_login or next(iter(self.users), "")
        query = urlencode({"code": code, "state": params.get("state", "")})
        return Reply(302, "", headers={"Location": f"{params['redirect_uri']}?{query}"})

    def token(self, call: Call, groups: dict) -> Reply:
        form = {k: v[-1] for k, v in call.form().items()}
        if (
            form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
        ):
            return Reply(401, {"error": "invalid_client"})

        with self.state_lock:
            if form.get("grant_type") == "authorization_code":
                user = self.codes.pop(form.get("code", ""), None)
            elif form.get("grant_type") == "refresh_token":
                # Refresh tokens rotate: the one just used is gone.
                user = self.refresh.pop(form.get("refresh_token", ""), None)
            else:
                return Reply(400, {"error": "unsupported_grant_type"})
        if user is None:
            return Reply(400, {"error": "invalid_grant", "error_description": "Invalid grant"})
        return Reply(200, self.issue(user))

    def user_info(self, call: Call, groups: dict) -> Reply:
        user = self.user_of(call)
        if user is None:
            return unauthorized()
        blogs = self.users[user]
        return Reply(
            200,
            {
                "meta": {"status": 200, "msg": "OK"},
                "response": {"user": {"name": user, "blogs": blogs}},
            },
        )

    def create_post(self, call: Call, groups: dict) -> Reply:
        user = self.user_of(call)
        if user is None:
            return unauthorized()
        blog = self.blog_of(user, groups["blog"])
        if blog is None:
            return tumblr_error(403, "Forbidden", 0, "You do not have permission to post here")

        parts = multipart_parts(call)
        call.parts = parts
        if "json" not in parts:
            return tumblr_error(400, "Bad Request", 8001, "Missing the json part")
        body = json.loads(parts["json"]["data"])
        for block in body.get("content") or []:
            if "type" not in block:
                return tumblr_error(400, "Bad Request", 8001, "Block must have a type")
            if block["type"] == "text" and len(block.get("text", "")) > TEXT_BLOCK_LIMIT:
                return tumblr_error(400, "Bad Request", 8001, "Text block is too long")
            for media in block.get("media") or []:
                if media.get("identifier") not in parts:
                    return tumblr_error(400, "Bad Request", 8005, "Media identifier not found")

        post_id = str(next(_ids))
        slug = body.get("slug") or ""
        with self.state_lock:
            self.posts.append(
                {
                    "id": int(post_id),
                    "id_string": post_id,
                    "blog": blog["name"],
                    "slug": slug,
                    "post_url": f"{blog['url']}post/{post_id}/{slug}".rstrip("/"),
                    "body": body,
                    "files": {k: v for k, v in parts.items() if k != "json"},
                }
            )
        return Reply(
            201,
            {
                "meta": {"status": 201, "msg": "Created"},
                "response": {"id": post_id, "state": "published", "display_text": "Posted"},
            },
        )

    def list_posts(self, call: Call, groups: dict) -> Reply:
        user = self.user_of(call)
        if user is None:
            return unauthorized()
        blog = self.blog_of(user, groups["blog"])
        if blog is None:
            return tumblr_error(404, "Not Found", 0, "Blog not found")
        limit = int((call.query.get("limit") or ["20"])[-1])
        mine = [p for p in reversed(self.posts) if p["blog"] == blog["name"]][:limit]
        rows = [{k: p[k] for k in ("id", "id_string", "slug", "post_url")} for p in mine]
        return Reply(200, {"meta": {"status": 200, "msg": "OK"}, "response": {"posts": rows}})

    def env(self) -> dict[str, str]:
        return {
            "HAYON_TUMBLR_API_URL": self.url,
            "HAYON_TUMBLR_AUTHORIZE_URL": f"{self.url}/oauth2/authorize",
            "HAYON_TUMBLR_CLIENT_ID": self.client_id,
            "HAYON_TUMBLR_CLIENT_SECRET": self.client_secret,
            "OAUTHLIB_INSECURE_TRANSPORT": "1",
        }

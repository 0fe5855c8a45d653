"""Fake Meta Graph servers: Instagram (graph.instagram.com), Threads (graph.threads.net) and
Facebook Pages (graph.facebook.com, with the Facebook Login dialog).

They follow Meta's published API references request by request: containers that go
IN_PROGRESS -> FINISHED -> PUBLISHED (or ERROR, EXPIRED), publishing quotas, Page posts and
photos, Graph error payloads (code 190, throttling codes with X-Business-Use-Case-Usage),
token exchange and renewal, and the OAuth code flow. Tests script them per case:

- `script_container("IN_PROGRESS", "FINISHED")`: the next container answers these statuses
  to successive polls (the last one sticks);
- `fail_next(route, Reply(...))` from FakeServer, with `graph_error(...)` for the body;
- `quota_usage` / `quota_total`; `revoke(token)` makes a token answer code 190;
- `hang_up(after_handling=True)` for a reply: the connection closes without an answer, the
  way a timed-out request looks to the caller (the post may exist or not).

`route_names()` lists the calls received, by the names used below, for "exactly these calls
in this order" assertions.
"""

import itertools
import json
import secrets
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes.server import Call, FakeServer, Reply

V = r"(?:/v[0-9.]+)?"
POLL_SETTINGS = {
    "HAYON_CONTAINER_POLL_INTERVAL": "0.05",
    "HAYON_CONTAINER_POLL_SECONDS": "2",
    # The fakes speak plain HTTP on loopback; oauthlib insists on HTTPS otherwise.
    "OAUTHLIB_INSECURE_TRANSPORT": "1",
}
_ids = itertools.count(17_841_400_000_000_000)
# Not an HTTP status: a reply with it closes the connection without an answer.
HUNG_UP = 0


def new_id() -> str:
    return str(next(_ids))


def graph_error(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    status: int = 400,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Reply:
    """Return a reply carrying a Graph API error payload."""
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A" + secrets.token_hex(8),
        **extra,
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return Reply(status, {"error": error}, headers=dict(headers or {}))


def hang_up(*, after_handling: bool = False) -> Reply:
    """Return a reply that closes the connection without answering (see ContainerFake)."""
    return Reply(HUNG_UP, after_handling=after_handling)


def params_of(call: Call) -> dict[str, str]:
    """Return the query and form parameters of a call, one value each."""
    merged = {k: v[-1] for k, v in call.query.items()}
    if call.body and "x-www-form-urlencoded" in call.headers.get("content-type", ""):
        merged.update({k: v[-1] for k, v in call.form().items()})
    return merged


class GraphFake(FakeServer):
    """Tokens, the OAuth code flow and token renewal, common to the three Meta hosts."""

    label = "Meta"
    app_id = "fake-app"
    app_secret = "fake-app-secret"

    def __init__(self) -> None:
        super().__init__()
        self.state_lock = threading.RLock()
        self.clear_state()

    def clear_state(self) -> None:
        self.tokens: dict[str, str] = {}
        self.revoked: set[str] = set()
        self.codes: dict[str, str] = {}
        self.refusing_renewal = False
        # Who agrees on the consent screen next (a user id); the first user when unset.
        self.next_login = ""

    def reset(self) -> None:
        super().reset()
        with self.state_lock:
            self.clear_state()

    def route_names(self) -> list[str]:
        return [getattr(call, "route", "?") for call in self.calls]

    def calls_named(self, name: str) -> list[Call]:
        return [call for call in self.calls if getattr(call, "route", "") == name]

    def issue_token(self, owner_id: str) -> str:
        token = f"{self.label.lower()}-{secrets.token_urlsafe(12)}"
        with self.state_lock:
            self.tokens[token] = owner_id
        return token

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def owner(self, call: Call) -> str | None:
        token = params_of(call).get("access_token", "")
        if token in self.revoked:
            return None
        return self.tokens.get(token)

    def invalid_token(self) -> Reply:
        return graph_error(190, "Error validating access token: Session has expired", subcode=463)

    def authorize(self, call: Call, groups: dict) -> Reply:
        """The consent screen, already agreed to: redirect back with a code and the state."""
        params = params_of(call)
        if params.get("client_id") != self.app_id:
            return graph_error(101, "Invalid App ID")
        code = secrets.token_urlsafe(8)
        owner = self.next_login or self.default_login()
        self.codes[code] = owner
        target = params["redirect_uri"] + "?" + urlencode({"code": code, "state": params["state"]})
        return Reply(302, "", headers={"Location": target})

    def default_login(self) -> str:
        return next(iter(self.tokens.values()), "")

    def exchange_code(self, params: dict[str, str]) -> Reply | str:
        if (
            params.get("client_id") != self.app_id
            or params.get("client_secret") != self.app_secret
        ):
            return graph_error(101, "Error validating application. Invalid application ID.")
        owner = self.codes.pop(params.get("code", ""), None)
        if owner is None:
            return graph_error(100, "This authorization code has been used.", subcode=36009)
        return owner

    def renew(self, call: Call, groups: dict) -> Reply:
        """GET /refresh_access_token (and /access_token for exchanges): a new 60-day token."""
        owner = self.owner(call)
        if owner is None or self.refusing_renewal:
            return self.invalid_token()
        return Reply(
            200,
            {
                "access_token": self.issue_token(owner),
                "token_type": "bearer",
                "expires_in": 5_184_000,
            },
        )


class ContainerFake(GraphFake):
    """Media containers, publishing and quota, as Instagram and Threads share them."""

    create_edge = ""
    publish_edge = ""
    limit_edge = ""
    status_key = ""
    detail_key = ""
    text_key = ""
    permalink_base = ""
    quota_total_default = 100

    def __init__(self) -> None:
        super().__init__()
        self.route("POST", rf"{V}/(?P<user>\d+)/{self.create_edge}", self.create, "container")
        self.route("GET", rf"{V}/(?P<user>\d+)/{self.create_edge}", self.listing, "listing")
        self.route("POST", rf"{V}/(?P<user>\d+)/{self.publish_edge}", self.publish, "publish")
        self.route("GET", rf"{V}/(?P<user>\d+)/{self.limit_edge}", self.limit, "quota")
        self.route("GET", r"/refresh_access_token", self.renew, "refresh_token")
        self.route("GET", r"/access_token", self.renew, "exchange_token")
        self.route("GET", rf"{V}/me", self.me, "me")
        self.route("GET", rf"{V}/(?P<object_id>\d+)", self.read, "read")

    def clear_state(self) -> None:
        super().clear_state()
        self.users: dict[str, str] = {}
        self.containers: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.plans: deque[list[str]] = deque()
        self.quota_usage = 0
        self.quota_total = self.quota_total_default

    def add_user(self, username: str) -> tuple[str, str]:
        """Create a user; return (user id, a long-lived token)."""
        user_id = new_id()
        self.users[user_id] = username
        return user_id, self.issue_token(user_id)

    def script_container(self, *statuses: str) -> None:
        self.plans.append(list(statuses))

    def published_posts(self) -> list[dict[str, Any]]:
        return list(self.media.values())

    def create(self, call: Call, groups: dict) -> Reply:
        if self.owner(call) != groups["user"]:
            return self.invalid_token()

        params = params_of(call)
        params.pop("access_token", None)
        problem = self.refuse_container(params)
        if problem:
            return problem

        container_id = new_id()
        plan = self.plans.popleft() if self.plans else ["FINISHED"]
        with self.state_lock:
            self.containers[container_id] = {
                "id": container_id,
                "user": groups["user"],
                "params": params,
                "plan": deque(plan),
                "status": plan[-1],
            }
        return Reply(200, {"id": container_id})

    def refuse_container(self, params: dict[str, str]) -> Reply | None:
        return None

    def status_of(self, container: dict[str, Any]) -> str:
        with self.state_lock:
            plan = container["plan"]
            if container["status"] == "PUBLISHED":
                return "PUBLISHED"
            status = plan.popleft() if len(plan) > 1 else plan[0]
            container["status"] = status
            return status

    def read(self, call: Call, groups: dict) -> Reply:
        if self.owner(call) is None:
            return self.invalid_token()

        object_id = groups["object_id"]
        if object_id in self.containers:
            call.route = "status"
            container = self.containers[object_id]
            status = self.status_of(container)
            detail = "Error: Media download has failed." if status == "ERROR" else ""
            return Reply(200, {self.status_key: status, self.detail_key: detail, "id": object_id})
        if object_id in self.media:
            call.route = "permalink"
            media = self.media[object_id]
            return Reply(200, {"id": object_id, "permalink": media["permalink"]})
        if object_id in self.users:
            call.route = "profile"
            return Reply(200, {"id": object_id, "username": self.users[object_id]})
        return graph_error(100, "Unsupported get request. Object does not exist", subcode=33)

    def publish(self, call: Call, groups: dict) -> Reply:
        if self.owner(call) != groups["user"]:
            return self.invalid_token()

        container = self.containers.get(params_of(call).get("creation_id", ""))
        if container is None:
            return graph_error(100, "Invalid parameter", subcode=2207006)
        if container["status"] == "PUBLISHED":
            return graph_error(100, "The media has already been published", subcode=2207006)
        if container["status"] != "FINISHED":
            return graph_error(9007, "Media ID is not available", subcode=2207027)
        if self.quota_usage >= self.quota_total:
            return graph_error(9, "Application request limit reached", subcode=2207042)

        media_id = new_id()
        with self.state_lock:
            container["status"] = "PUBLISHED"
            self.quota_usage += 1
            self.media[media_id] = {
                "id": media_id,
                "container": container["id"],
                "params": container["params"],
                self.text_key: container["params"].get(self.text_key, ""),
                "permalink": f"{self.permalink_base}/{media_id}/",
                "timestamp": "2026-01-01T00:00:00+0000",
            }
        return Reply(200, {"id": media_id})

    def limit(self, call: Call, groups: dict) -> Reply:
        if self.owner(call) != groups["user"]:
            return self.invalid_token()
        config = {"quota_total": self.quota_total, "quota_duration": 86400}
        return Reply(200, {"data": [{"quota_usage": self.quota_usage, "config": config}]})

    def listing(self, call: Call, groups: dict) -> Reply:
        if self.owner(call) != groups["user"]:
            return self.invalid_token()
        rows = [
            {k: m[k] for k in ("id", self.text_key, "permalink", "timestamp")}
            for m in reversed(self.media.values())
        ]
        return Reply(200, {"data": rows})

    def me(self, call: Call, groups: dict) -> Reply:
        owner = self.owner(call)
        if owner is None:
            return self.invalid_token()
        return Reply(200, {"id": owner, "user_id": owner, "username": self.users.get(owner, "")})

    def _send(self, request: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.status != HUNG_UP:
            super()._send(request, reply)
            return
        # The caller sees the connection drop with no status line, as after a timeout.
        request.close_connection = True


class InstagramFake(ContainerFake):
    """graph.instagram.com (Instagram Login) plus its OAuth endpoints."""

    label = "Instagram"
    create_edge = "media"
    publish_edge = "media_publish"
    limit_edge = "content_publishing_limit"
    status_key = "status_code"
    detail_key = "status"
    text_key = "caption"
    permalink_base = "https://www.instagram.com/p"
    # Instagram Login: the consent screen (www.instagram.com) and the code exchange
    # (api.instagram.com) are served by this same fake, on its host root.
    app_id = "fake-instagram-app"
    app_secret = "fake-instagram-secret"
    login_scope = "instagram_business_basic"

    def refuse_container(self, params: dict[str, str]) -> Reply | None:
        if params.get("media_type") == "CAROUSEL":
            children = params.get("children", "").split(",")
            if not 2 <= len(children) <= 10:
                return graph_error(100, "The carousel must have 2 to 10 children")
            return None
        if not params.get("image_url"):
            return graph_error(100, "Only photo or video can be accepted as media type.")
        return None

    def __init__(self) -> None:
        super().__init__()
        self.route("GET", r"/oauth/authorize", self.authorize, "authorize")
        self.route("POST", r"/oauth/access_token", self.code_exchange, "code_exchange")

    def clear_state(self) -> None:
        super().clear_state()
        self.code_redirects: dict[str, str] = {}

    def authorize(self, call: Call, groups: dict) -> Reply:
        params = params_of(call)
        if self.login_scope not in params.get("scope", "").split(","):
            return instagram_error(f"Invalid scope: {self.login_scope} is required")
        reply = super().authorize(call, groups)
        if reply.status == 302:
            code = parse_qs(urlsplit(reply.headers["Location"]).query)["code"][0]
            self.code_redirects[code] = params["redirect_uri"]
        return reply

    def code_exchange(self, call: Call, groups: dict) -> Reply:
        """POST /oauth/access_token: a code for a short-lived token, in Business Login's shape."""
        params = params_of(call)
        if (
            params.get("client_id") != self.app_id
            or params.get("client_secret") != self.app_secret
        ):
            return instagram_error("Invalid platform app")
        if params.get("grant_type") != "authorization_code":
            return instagram_error("Invalid grant_type")
        code = params.get("code", "")
        owner = self.codes.pop(code, None)
        if owner is None:
            return instagram_error("This authorization code has been used")
        if self.code_redirects.pop(code, None) != params.get("redirect_uri"):
            return instagram_error(
                "Error validating verification code. Please make sure your redirect_uri is "
                "identical to the one you used in the OAuth dialog request"
            )

        row = {
            "access_token": self.issue_token(owner),
            # Scoped to the app, unlike the professional account's id /me answers.
            "user_id": new_id(),
            "permissions": "instagram_business_basic,instagram_business_content_publish",
        }
        return Reply(200, {"data": [row]})

    def renew(self, call: Call, groups: dict) -> Reply:
        """Instagram's exchange takes the app secret; each call names its own grant type."""
        params = params_of(call)
        if call.route == "exchange_token":
            if params.get("grant_type") != "ig_exchange_token":
                return graph_error(100, "Unsupported grant_type")
            if params.get("client_secret") != self.app_secret:
                return graph_error(101, "Error validating client secret.")
        elif params.get("grant_type") != "ig_refresh_token":
            return graph_error(100, "Unsupported grant_type")
        return super().renew(call, groups)

    def env(self) -> dict[str, str]:
        return {
            "HAYON_INSTAGRAM_API_URL": f"{self.url}/v23.0",
            "HAYON_INSTAGRAM_AUTHORIZE_URL": f"{self.url}/oauth/authorize",
            "HAYON_INSTAGRAM_TOKEN_URL": f"{self.url}/oauth/access_token",
            "HAYON_INSTAGRAM_APP_ID": self.app_id,
            "HAYON_INSTAGRAM_APP_SECRET": self.app_secret,
            **POLL_SETTINGS,
        }


def instagram_error(message: str) -> Reply:
    """Return api.instagram.com's refusal, which is not in the Graph API's error shape."""
    return Reply(400, {"error_type": "OAuthException", "code": 400, "error_message": message})


class ThreadsFake(ContainerFake):
    """graph.threads.net plus the Threads authorization screen and code exchange."""

    label = "Threads"
    create_edge = "threads"
    publish_edge = "threads_publish"
    limit_edge = "threads_publishing_limit"
    status_key = "status"
    detail_key = "error_message"
    text_key = "text"
    permalink_base = "https://www.threads.net/@fake/post"
    quota_total_default = 250
    app_id = "fake-threads-app"
    app_secret = "fake-threads-secret"

    def __init__(self) -> None:
        super().__init__()
        self.route("GET", r"/oauth/authorize", self.authorize, "authorize")
        self.route("POST", r"/oauth/access_token", self.code_exchange, "code_exchange")

    def refuse_container(self, params: dict[str, str]) -> Reply | None:
        kind = params.get("media_type")
        if kind == "TEXT" and not params.get("text"):
            return graph_error(100, "The parameter text is required for TEXT posts")
        if kind == "IMAGE" and not params.get("image_url"):
            return graph_error(100, "The parameter image_url is required")
        if kind == "CAROUSEL" and not 2 <= len(params.get("children", "").split(",")) <= 20:
            return graph_error(100, "A carousel must have 2 to 20 children")
        if kind not in ("TEXT", "IMAGE", "CAROUSEL", "VIDEO"):
            return graph_error(100, "Invalid media_type")
        return None

    def code_exchange(self, call: Call, groups: dict) -> Reply:
        owner = self.exchange_code(params_of(call))
        if isinstance(owner, Reply):
            return owner
        # A short-lived token: the product exchanges it for a 60-day one next.
        return Reply(200, {"access_token": self.issue_token(owner), "user_id": int(owner)})

    def env(self) -> dict[str, str]:
        return {
            "HAYON_THREADS_API_URL": f"{self.url}/v1.0",
            "HAYON_THREADS_AUTHORIZE_URL": f"{self.url}/oauth/authorize",
            "HAYON_THREADS_APP_ID": self.app_id,
            "HAYON_THREADS_APP_SECRET": self.app_secret,
            **POLL_SETTINGS,
        }


class FacebookFake(GraphFake):
    """graph.facebook.com for Pages, plus the Facebook Login dialog and code exchange."""

    label = "Facebook"
    app_id = "fake-meta-app"
    app_secret = "fake-meta-secret"

    def __init__(self) -> None:
        super().__init__()
        self.route("GET", rf"{V}/dialog/oauth", self.authorize, "authorize")
        self.route("GET", rf"{V}/oauth/access_token", self.access_token, "access_token")
        self.route("GET", rf"{V}/me/accounts", self.accounts, "accounts")
        self.route("GET", rf"{V}/me", self.me, "me")
        self.route("POST", rf"{V}/(?P<page>\d+)/feed", self.feed, "feed")
        self.route("POST", rf"{V}/(?P<page>\d+)/photos", self.photos, "photos")
        self.route("GET", rf"{V}/(?P<page>\d+)/published_posts", self.published, "published")
        self.route("GET", rf"{V}/(?P<object_id>[\d_]+)", self.read, "read")

    def clear_state(self) -> None:
        super().clear_state()
        self.users: dict[str, dict[str, Any]] = {}
        self.pages: dict[str, dict[str, Any]] = {}
        self.photos_made: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}

    def add_user(self, name: str) -> tuple[str, str]:
        """Create a Facebook user; return (user id, a user token)."""
        user_id = new_id()
        self.users[user_id] = {"name": name, "pages": []}
        return user_id, self.issue_token(user_id)

    def add_page(
        self, user_id: str, name: str, *, instagram: tuple[str, str] | None = None
    ) -> tuple[str, str]:
        """Create a Page the user manages; return (page id, its Page token)."""
        page_id = new_id()
        token = self.issue_token(page_id)
        self.pages[page_id] = {"name": name, "token": token, "instagram": instagram}
        self.users[user_id]["pages"].append(page_id)
        return page_id, token

    def published_posts(self) -> list[dict[str, Any]]:
        return list(self.posts.values())

    def default_login(self) -> str:
        return next(iter(self.users), "")

    def access_token(self, call: Call, groups: dict) -> Reply:
        params = params_of(call)
        if params.get("grant_type") == "fb_exchange_token":
            owner = self.tokens.get(params.get("fb_exchange_token", ""))
            if owner is None or params.get("client_secret") != self.app_secret:
                return self.invalid_token()
            call.route = "exchange_token"
            token = self.issue_token(owner)
            return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 5e6})

        owner = self.exchange_code(params)
        if isinstance(owner, Reply):
            return owner
        call.route = "code_exchange"
        token = self.issue_token(owner)
        return Reply(200, {"access_token": token, "token_type": "bearer", "expires_in": 3600})

    def accounts(self, call: Call, groups: dict) -> Reply:
        owner = self.owner(call)
        if owner is None:
            return self.invalid_token()
        if owner not in self.users:
            return graph_error(
                100, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)"
            )
        rows = []
        for page_id in self.users[owner]["pages"]:
            page = self.pages[page_id]
            row = {"id": page_id, "name": page["name"], "access_token": page["token"]}
            if page["instagram"]:
                ig_id, username = page["instagram"]
                row["instagram_business_account"] = {"id": ig_id, "username": username}
            rows.append(row)
        return Reply(200, {"data": rows})

    def me(self, call: Call, groups: dict) -> Reply:
        owner = self.owner(call)
        if owner is None:
            return self.invalid_token()
        who = self.pages.get(owner) or self.users.get(owner) or {}
        return Reply(200, {"id": owner, "name": who.get("name", "")})

    def as_page(self, call: Call, page_id: str) -> Reply | None:
        owner = self.owner(call)
        if owner is None:
            return self.invalid_token()
        if owner != page_id:
            return graph_error(
                200,
                "(#200) The message must be posted to a page as the page itself",
            )
        return None

    def make_post(self, page_id: str, message: str, **extra: Any) -> str:
        post_id = f"{page_id}_{new_id()}"
        self.posts[post_id] = {
            "id": post_id,
            "message": message,
            "created_time": "2026-01-01T00:00:00+0000",
            "permalink_url": f"https://www.facebook.com/{page_id}/posts/{post_id.split('_')[1]}",
            **extra,
        }
        return post_id

    def feed(self, call: Call, groups: dict) -> Reply:
        refused = self.as_page(call, groups["page"])
        if refused:
            return refused

        params = params_of(call)
        attached = [
            json.loads(v)["media_fbid"]
            for k, v in sorted(params.items())
            if k.startswith("attached_media[")
        ]
        for photo_id in attached:
            if photo_id not in self.photos_made:
                return graph_error(100, "(#100) Invalid media_fbid")
        if not params.get("message") and not params.get("link") and not attached:
            return graph_error(100, "(#100) Missing message or attachment")

        post_id = self.make_post(
            groups["page"], params.get("message", ""), link=params.get("link"), photos=attached
        )
        return Reply(200, {"id": post_id})

    def photos(self, call: Call, groups: dict) -> Reply:
        refused = self.as_page(call, groups["page"])
        if refused:
            return refused

        params = params_of(call)
        if not params.get("url"):
            return graph_error(324, "(#324) Requires upload file")
        photo_id = new_id()
        self.photos_made[photo_id] = {"url": params["url"]}
        if params.get("published") == "false":
            return Reply(200, {"id": photo_id})

        post_id = self.make_post(groups["page"], params.get("message", ""), photos=[photo_id])
        return Reply(200, {"id": photo_id, "post_id": post_id})

    def published(self, call: Call, groups: dict) -> Reply:
        refused = self.as_page(call, groups["page"])
        if refused:
            return refused
        rows = [
            {k: p[k] for k in ("id", "message", "created_time", "permalink_url")}
            for p in reversed(self.posts.values())
            if p["id"].startswith(groups["page"] + "_")
        ]
        return Reply(200, {"data": rows})

    def read(self, call: Call, groups: dict) -> Reply:
        if self.owner(call) is None:
            return self.invalid_token()
        post = self.posts.get(groups["object_id"])
        if post:
            call.route = "permalink"
            return Reply(200, {"id": post["id"], "permalink_url": post["permalink_url"]})
        page = self.pages.get(groups["object_id"])
        if page:
            call.route = "page"
            return Reply(200, {"id": groups["object_id"], "name": page["name"]})
        return graph_error(100, "Unsupported get request. Object does not exist", subcode=33)

    def env(self) -> dict[str, str]:
        return {
            "HAYON_GRAPH_API_URL": f"{self.url}/v23.0",
            "HAYON_META_DIALOG_URL": f"{self.url}/v23.0/dialog/oauth",
            "HAYON_META_APP_ID": self.app_id,
            "HAYON_META_APP_SECRET": self.app_secret,
            "OAUTHLIB_INSECURE_TRANSPORT": "1",
        }

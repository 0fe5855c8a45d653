"""Publish to a Facebook Page with the Page's own token.

- Text (and a link): POST /{page}/feed.
- One photo: POST /{page}/photos with the image URL and the text as its caption.
- Several photos: each uploaded unpublished, then one POST /{page}/feed attaching them.

Facebook has no idempotency key. Before the call that creates the post we remember when it
started; after an ambiguous outcome (no answer, a 5xx, a transient Graph error, or a worker
that died during the call), reconcile looks for a post with the same text among the Page's
posts published since then. A post that is not listed proves nothing, since the listing can
lag: that is `unconfirmed`, for a person to check, because posting again could make a second
post. Only a person's retry of that delivery (RETRIED_BY_PERSON) lets an unlisted post be sent
again. A create call Facebook refused plainly made nothing, so it leaves nothing to look for.
"""

import json
import logging
import time

from django.conf import settings

from platforms.base import RETRIED_BY_PERSON, Publisher, PublishRequest, PublishResult
from platforms.errors import PublishError, ReconnectRequired, Unconfirmed
from platforms.meta.graph import GraphClient
from platforms.models import Account
from platforms.text import find_links

logger = logging.getLogger(__name__)

# Posts can take a moment to be listed, and clocks differ: look a little before the start.
RECONCILE_SLACK = 120


class FacebookPublisher(Publisher):
    platform = "facebook"
    label = "Facebook"

    def client(self, account: Account) -> GraphClient:
        token = account.credentials.get("access_token")
        if not token:
            raise ReconnectRequired(f"{account.reconnect_message()}: no Page token stored")
        return GraphClient(settings.HAYON_GRAPH_API_URL, token, self.label)

    def publish(self, account: Account, request: PublishRequest) -> PublishResult:
        try:
            return self._publish(account, request)
        except Unconfirmed:
            raise
        except PublishError:
            # Facebook answered that it made nothing: no post of this attempt to look for.
            request.remember({"started_at": None})
            raise

    def _publish(self, account: Account, request: PublishRequest) -> PublishResult:
        client = self.client(account)
        page = account.remote_id

        if len(request.media) > 1:
            photo_ids = self.upload_unpublished(client, page, request)
            self.mark_start(request)
            data = {"message": request.text}
            for index, photo_id in enumerate(photo_ids):
                data[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo_id})
            post_id = str(client.post(f"{page}/feed", data, creates=True)["id"])
        elif request.media:
            self.mark_start(request)
            data = {"url": request.media[0].url, "message": request.text, "published": "true"}
            answer = client.post(f"{page}/photos", data, creates=True)
            post_id = str(answer.get("post_id") or f"{page}_{answer['id']}")
        else:
            self.mark_start(request)
            data = {"message": request.text}
            # Facebook previews the `link` it is given; trailing punctuation would break it.
            links = find_links(request.text, require_scheme=True)
            if links:
                data["link"] = links[0].url
            post_id = str(client.post(f"{page}/feed", data, creates=True)["id"])

        return PublishResult(post_id, self.permalink(client, account, post_id))

    def upload_unpublished(
        self, client: GraphClient, page: str, request: PublishRequest
    ) -> list[str]:
        """Upload each photo unpublished (reusing those an earlier attempt uploaded)."""
        photo_ids = list(request.state.get("photo_ids") or [])
        for item in request.media[len(photo_ids) :]:
            answer = client.post(f"{page}/photos", {"url": item.url, "published": "false"})
            photo_ids.append(str(answer["id"]))
            request.remember({"photo_ids": photo_ids})
        return photo_ids

    def mark_start(self, request: PublishRequest) -> None:
        request.remember({"started_at": int(time.time()), RETRIED_BY_PERSON: False})

    def permalink(self, client: GraphClient, account: Account, post_id: str) -> str:
        try:
            answer = client.get(post_id, fields="permalink_url")
        except PublishError as exc:
            logger.warning(
                "permalink not readable platform=facebook account=%s post_id=%s: %s",
                account.pk,
                post_id,
                exc.message,
            )
            return f"https://www.facebook.com/{post_id}"
        return answer.get("permalink_url") or f"https://www.facebook.com/{post_id}"

    def reconcile(self, account: Account, request: PublishRequest) -> PublishResult | None:
        started = request.state.get("started_at")
        if not started:
            # The create call never went out (or Facebook refused it plainly).
            return None

        found = self.find_on_page(account, request, int(started))
        if found is not None or request.state.get(RETRIED_BY_PERSON):
            return found
        raise Unconfirmed(
            "Facebook may have made the post but the Page does not list it: check the Page, "
            "then mark the delivery published or retry it"
        )

    def find_on_page(
        self, account: Account, request: PublishRequest, started: int
    ) -> PublishResult | None:
        """Return the Page's post with the request's text published since `started`, if any."""
        answer = self.client(account).get(
            f"{account.remote_id}/published_posts",
            fields="id,message,created_time,permalink_url",
            since=started - RECONCILE_SLACK,
            limit=25,
        )
        for post in answer.get("data") or []:
            if (post.get("message") or "").strip() == request.text.strip():
                url = post.get("permalink_url") or f"https://www.facebook.com/{post['id']}"
                return PublishResult(str(post["id"]), url)
        return None

    def refresh_credentials(self, account: Account) -> None:
        # Page tokens have no refresh: a refused one means the person must reconnect the Page.
        raise ReconnectRequired(f"{account.reconnect_message()}: the Page token was refused")

    def check_account(self, account: Account) -> None:
        self.client(account).get(account.remote_id, fields="id,name")


publisher = FacebookPublisher()

"""Changing a post before it starts: edit it, publish a draft, duplicate it, delete a draft.

A post can be edited while it is a draft, or while every delivery still waits for its first
attempt. The edit runs with the post's delivery rows locked, so it and the worker's claim
(a compare-and-set on the delivery version) cannot both win: either the edit sees a delivery
already publishing and refuses with 409, or it bumps every version first and the worker's
stale message is skipped. New messages are sent once the edit commits.

An uploaded image belongs to one post (media/services.py moves it under the post), so an
image taken off a post is deleted, and a duplicate gets copies of the original's images.
"""

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from hayon.errors import Conflict, HayonError
from media.models import Media
from media.services import (
    MediaChoice,
    attach_to_post,
    copy_for_post,
    delete_quietly,
    media_for_post,
)
from platforms.models import AccountHealth
from platforms.registry import get_publisher
from posts.dispatch import enqueue_on_commit
from posts.models import WAITING, Delivery, DeliveryStatus, Post, PostMedia
from posts.schedule import parse_schedule
from posts.services import PostInput, check_rules, owned_accounts, raise_if_invalid
from posts.status import refresh_post_status

logger = logging.getLogger(__name__)

MEDIA_FIELD = re.compile(r"^media\[\d+\]")


@dataclass
class PostChange:
    """What a PATCH changes; None leaves a part as it is."""

    text: str | None = None
    accounts: list[int] | None = None
    platform_content: dict[str, dict[str, Any]] | None = None
    media: list[MediaChoice] | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Checked:
    """A post's content after checking: the media to attach and the media it keeps."""

    fresh: list[Media]
    kept: list[Media]
    order: list[Media]


def update_post(post: Post, change: PostChange) -> Post:
    """Change a post that has not started; raise 409 once any delivery has, 400 if invalid."""
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        live = live_deliveries(post)
        ensure_not_started(post, live)
        if change.accounts is not None and not post.is_draft:
            raise HayonError(
                "accounts can only change on a draft; cancel one account's delivery instead",
                code="accounts_fixed",
                field="accounts",
            )

        data = merged_input(post, live, change)
        checked = check_content(post, data)
        store_content(post, data, checked)
        live = sync_deliveries(post, live, data)
        if not post.is_draft:
            restart(live)

    refresh_post_status(post.pk)
    logger.info("post edited post=%s deliveries=%s", post.pk, [d.pk for d in live])
    post.refresh_from_db()
    return post


def publish_draft(post: Post, scheduled_at: str | None, tz_name: str | None) -> Post:
    """Turn a draft into a post that publishes now or at `scheduled_at`."""
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        if not post.is_draft:
            raise Conflict(f"post {post.pk} is not a draft", code="not_a_draft")

        live = live_deliveries(post)
        schedule = parse_schedule(scheduled_at, tz_name or None, default_tz=post.timezone)
        data = merged_input(post, live, PostChange())
        data.draft = False
        check_content(post, data)

        post.is_draft = False
        post.scheduled_at = schedule.at
        post.timezone = schedule.timezone
        post.save(update_fields=["is_draft", "scheduled_at", "timezone", "updated_at"])
        Delivery.objects.filter(pk__in=[d.pk for d in live]).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=schedule.at or timezone.now(),
            enqueued_at=None,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        enqueue_on_commit([d.pk for d in live])

    refresh_post_status(post.pk)
    logger.info(
        "draft published post=%s at=%s deliveries=%s",
        post.pk,
        schedule.at.isoformat() if schedule.at else "now",
        [d.pk for d in live],
    )
    post.refresh_from_db()
    return post


def duplicate_post(post: Post) -> Post:
    """Return a new draft with the post's text, options, accounts and copies of its images."""
    deliveries = post.deliveries.select_related("account").exclude(
        account__health=AccountHealth.REVOKED
    )
    with transaction.atomic():
        draft = Post.objects.create(
            owner=post.owner,
            text=post.text,
            is_draft=True,
            timezone=post.timezone,
            options=post.options,
        )
        for delivery in deliveries:
            new_delivery(draft, delivery.account, delivery.text)

        for position, item in enumerate(media_of(post)):
            PostMedia.objects.create(
                post=draft, media=copy_for_post(item, draft.pk), position=position
            )

    refresh_post_status(draft.pk)
    logger.info("post duplicated post=%s from=%s", draft.pk, post.pk)
    draft.refresh_from_db()
    return draft


def delete_draft(post: Post) -> None:
    """Delete a draft with its images; refuse any other post (cancel it instead)."""
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        if not post.is_draft:
            raise Conflict(
                f"post {post.pk} is not a draft: cancel it instead of deleting it",
                code="not_a_draft",
            )

        post_id, media = post.pk, media_of(post)
        post.delete()
        discard_media(media)

    logger.info("draft deleted post=%s media=%s", post_id, [m.pk for m in media])


def media_of(post: Post) -> list[Media]:
    return [pm.media for pm in post.post_media.select_related("media").order_by("position")]


def live_deliveries(post: Post) -> list[Delivery]:
    """Return the post's deliveries that were not cancelled, locked for this transaction."""
    return list(
        post.deliveries.select_for_update().exclude(status=DeliveryStatus.CANCELLED).order_by("pk")
    )


def started(live: list[Delivery]) -> list[Delivery]:
    """Return the deliveries that have left the waiting states or been attempted."""
    return [d for d in live if d.status not in WAITING or d.attempt_count > 0]


def is_editable(post: Post, deliveries: list[Delivery]) -> bool:
    """Return whether the post can still be changed: a draft, or nothing started yet."""
    live = [d for d in deliveries if d.status != DeliveryStatus.CANCELLED]
    if post.is_draft:
        return True

    return bool(live) and not started(live)


def ensure_not_started(post: Post, live: list[Delivery]) -> None:
    if not live and not post.is_draft:
        raise Conflict(f"post {post.pk} was cancelled", code="post_cancelled")

    started_ones = started(live)
    if started_ones:
        raise Conflict(
            f"post {post.pk} has started publishing and can no longer be changed",
            code="post_started",
            errors=[
                {"code": "delivery_started", "message": f"delivery {d.pk} is {d.status}"}
                for d in started_ones
            ],
        )


def merged_input(post: Post, live: list[Delivery], change: PostChange) -> PostInput:
    """Return the post as it would be after the change."""
    accounts = change.accounts
    if accounts is None:
        accounts = [d.account_id for d in live]

    overrides = change.platform_content
    if overrides is None:
        overrides = {str(d.account_id): {"text": d.text} for d in live if d.text}
        overrides = {k: v for k, v in overrides.items() if int(k) in accounts}

    media = change.media
    if media is None:
        media = [MediaChoice(m.pk, m.alt) for m in media_of(post)]

    return PostInput(
        text=post.text if change.text is None else change.text,
        accounts=list(dict.fromkeys(accounts)),
        platform_content=overrides,
        media=media,
        timezone=post.timezone,
        options={**post.options, **change.options},
        draft=post.is_draft,
    )


def check_content(post: Post, data: PostInput) -> Checked:
    """Check accounts, media and every platform's rules; raise 400 listing every problem.

    Like posts.services.check_post, except that images already on this post are kept as
    they are rather than checked as fresh uploads.
    """
    accounts, account_problems = owned_accounts(post.owner, data)
    checked, media_problems = check_media(post, data.media)
    _, rule_problems = check_rules(accounts, data, checked.order)

    raise_if_invalid(account_problems + media_problems + rule_problems)
    return checked


def check_media(post: Post, choices: list[MediaChoice]) -> tuple[Checked, list[dict]]:
    on_post = {m.pk: m for m in media_of(post)}
    checked = Checked(fresh=[], kept=[], order=[])
    problems: list[dict[str, Any]] = []
    seen: set[int] = set()

    for position, choice in enumerate(choices):
        where = f"media[{position}]"
        if choice.media_id in seen:
            problems.append(
                {
                    "code": "media_repeated",
                    "message": f"media {choice.media_id} is used twice",
                    "field": f"{where}.id",
                }
            )
            continue
        seen.add(choice.media_id)

        item = on_post.get(choice.media_id)
        if item is not None:
            item.alt = choice.alt or item.alt
            checked.kept.append(item)
            checked.order.append(item)
            continue

        found, found_problems = media_for_post(post.owner, [choice])
        problems += [
            {**p, "field": MEDIA_FIELD.sub(where, p.get("field", where))} for p in found_problems
        ]
        checked.fresh += found
        checked.order += found

    return checked, problems


def store_content(post: Post, data: PostInput, checked: Checked) -> None:
    post.text = data.text
    post.options = data.options
    post.save(update_fields=["text", "options", "updated_at"])

    removed = [m for m in media_of(post) if m not in checked.kept]
    attach_to_post(post.owner, post.pk, checked.fresh)
    for item in checked.kept:
        item.save(update_fields=["alt", "updated_at"])

    PostMedia.objects.filter(post=post).delete()
    PostMedia.objects.bulk_create(
        PostMedia(post=post, media=item, position=position)
        for position, item in enumerate(checked.order)
    )
    discard_media(removed)


def sync_deliveries(post: Post, live: list[Delivery], data: PostInput) -> list[Delivery]:
    """Give each account its delivery and text override; return the live deliveries."""
    wanted = set(data.accounts)
    gone = [d.pk for d in live if d.account_id not in wanted]
    if gone:
        # Only a draft's accounts change, and a draft's deliveries were never sent.
        Delivery.objects.filter(pk__in=gone).delete()

    have = {d.account_id: d for d in live if d.account_id in wanted}
    accounts = {a.pk: a for a in owned_accounts(post.owner, data)[0]}
    for account_id in data.accounts:
        text = (data.platform_content.get(str(account_id)) or {}).get("text", "")
        delivery = have.get(account_id)
        if delivery is None:
            have[account_id] = new_delivery(post, accounts[account_id], text)
        elif delivery.text != text:
            delivery.text = text
            delivery.save(update_fields=["text", "updated_at"])

    return [have[account_id] for account_id in data.accounts]


def new_delivery(post: Post, account, text: str) -> Delivery:
    return Delivery.objects.create(
        post=post,
        account=account,
        platform=account.platform,
        text=text,
        next_attempt_at=post.scheduled_at or timezone.now(),
        idempotency_key=get_publisher(account.platform).new_idempotency_key(),
    )


def restart(live: list[Delivery]) -> None:
    """Make messages already sent for these deliveries stale and send new ones on commit."""
    ids = [d.pk for d in live]
    Delivery.objects.filter(pk__in=ids, status__in=WAITING).update(
        status=DeliveryStatus.PENDING,
        enqueued_at=None,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    enqueue_on_commit(ids)


def discard_media(items: list[Media]) -> None:
    """Delete media rows no post uses any more; their objects go once the change commits."""
    for item in items:
        keys = [key for key in (item.key, item.thumbnail_key) if key]
        Media.objects.filter(pk=item.pk).delete()
        for key in keys:
            transaction.on_commit(lambda item=item, key=key: delete_quietly(item, key))

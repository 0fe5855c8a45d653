"""What a person can do with posts: create, validate, cancel, reschedule, retry.

Views and tasks call these; they hold the rules. Every function takes the acting user's
objects already scoped to that user.
"""

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from hayon.errors import Conflict, HayonError
from media.models import Media
from media.services import MediaChoice, attach_to_post, media_for_post
from platforms.base import RETRIED_BY_PERSON
from platforms.models import Account
from platforms.registry import get_publisher, get_rules
from platforms.rules import MediaInfo, Report
from posts.dispatch import enqueue_on_commit
from posts.models import (
    RETRYABLE,
    WAITING,
    Delivery,
    DeliveryStatus,
    Post,
    PostMedia,
)
from posts.schedule import Schedule, parse_schedule
from posts.status import derive_status, refresh_post_status

logger = logging.getLogger(__name__)


@dataclass
class PostInput:
    text: str
    accounts: list[int]
    platform_content: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: list[MediaChoice] = field(default_factory=list)
    scheduled_at: str | None = None
    timezone: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    draft: bool = False


@dataclass
class CheckedPost:
    schedule: Schedule
    accounts: list[Account]
    media: list[Media]
    reports: list[Report]
    problems: list[dict[str, Any]]


def text_for(data: PostInput, account: Account) -> str:
    override = data.platform_content.get(str(account.pk)) or {}
    return override.get("text") or data.text


def text_field_for(data: PostInput, account: Account) -> str:
    """Return the input path of the text an account gets: its override's, or the post's."""
    override = data.platform_content.get(str(account.pk)) or {}
    return f"platform_content.{account.pk}.text" if override.get("text") else "text"


def owned_accounts(owner, data: PostInput) -> tuple[list[Account], list[dict[str, Any]]]:
    """Return the chosen accounts the owner can post to, and a problem for each other choice."""
    # The credentials are decrypted on load and no rule reads them.
    chosen = Account.objects.owned_by(owner).filter(pk__in=data.accounts).defer("credentials")
    found = {a.pk: a for a in chosen}
    accounts: list[Account] = []
    problems: list[dict[str, Any]] = []
    if not data.accounts and not data.draft:
        problems.append(
            {"code": "no_accounts", "message": "choose at least one account", "field": "accounts"}
        )

    for position, account_id in enumerate(data.accounts):
        account = found.get(account_id)
        if account is None:
            problems.append(
                {
                    "code": "account_not_found",
                    "message": f"account {account_id} does not exist",
                    "field": f"accounts[{position}]",
                }
            )
        elif not account.is_usable:
            problems.append(
                {
                    "code": "account_needs_reconnect",
                    "message": account.reconnect_message()
                    + (f": {account.health_reason}" if account.health_reason else ""),
                    "field": f"accounts[{position}]",
                    "account": account.pk,
                }
            )
        else:
            accounts.append(account)

    for key in data.platform_content:
        if not key.isdigit() or int(key) not in data.accounts:
            problems.append(
                {
                    "code": "override_for_unselected_account",
                    "message": f"platform_content names account {key}, which is not selected",
                    "field": f"platform_content.{key}",
                }
            )

    return accounts, problems


def check_post(owner, data: PostInput) -> CheckedPost:
    """Check everything about a post without creating anything; collect every problem."""
    problems: list[dict[str, Any]] = []
    schedule = Schedule(None, data.timezone or "UTC")
    try:
        schedule = parse_schedule(data.scheduled_at, data.timezone)
    except HayonError as exc:
        problems.append({"code": exc.code, "message": exc.message, "field": exc.field})

    accounts, account_problems = owned_accounts(owner, data)
    media, media_problems = media_for_post(owner, data.media)
    reports, rule_problems = check_rules(accounts, data, media)
    problems += account_problems + media_problems + rule_problems

    return CheckedPost(schedule, accounts, media, reports, problems)


def check_rules(
    accounts: list[Account], data: PostInput, media: list[Media]
) -> tuple[list[Report], list[dict[str, Any]]]:
    """Check the text and media against each account's platform rules.

    Return each account's report and the problems that stop the post.
    """
    problems: list[dict[str, Any]] = []
    infos = [MediaInfo(m.content_type, m.size, m.width or 0, m.height or 0, m.alt) for m in media]
    reports = []
    for account in accounts:
        report = get_rules(account.platform).check(
            account, text_for(data, account), infos, data.options
        )
        reports.append(report)

        # The rules speak of "text"; the client wrote the account's override when it has one.
        text_field = text_field_for(data, account)
        problems += [
            {
                **problem.as_dict(),
                "account": account.pk,
                **({"field": text_field} if problem.field == "text" else {}),
            }
            for problem in report.errors
        ]

    return reports, problems


def raise_if_invalid(problems: list[dict[str, Any]]) -> None:
    """Refuse the post with 400, naming the first problem and listing them all."""
    if problems:
        raise HayonError(
            problems[0]["message"],
            code="invalid_post",
            field=problems[0].get("field"),
            errors=problems,
        )


def create_post(owner, data: PostInput, *, idempotency_key: str = "") -> tuple[Post, bool]:
    """Create the post and one delivery per account; return (post, created).

    Nothing is created when anything is wrong. A repeated idempotency key returns the post
    made the first time, if the input is the same; with other input it is refused (409).
    """
    fingerprint = ""
    if idempotency_key:
        check_idempotency_key(idempotency_key)
        fingerprint = input_fingerprint(data)
        existing = Post.objects.owned_by(owner).filter(idempotency_key=idempotency_key).first()
        if existing:
            return same_request(existing, fingerprint), False

    checked = check_post(owner, data)
    raise_if_invalid(checked.problems)

    try:
        with transaction.atomic():
            post = store_post(owner, data, checked, idempotency_key, fingerprint)
    except IntegrityError:
        if not idempotency_key:
            raise
        # Two requests with the same key raced; the other one created the post.
        existing = Post.objects.owned_by(owner).get(idempotency_key=idempotency_key)
        return same_request(existing, fingerprint), False

    logger.info(
        "post created post=%s owner=%s deliveries=%s scheduled_at=%s",
        post.pk,
        owner.pk,
        len(checked.accounts),
        checked.schedule.at.isoformat() if checked.schedule.at else "now",
    )
    return post, True


def check_idempotency_key(key: str) -> None:
    limit = Post._meta.get_field("idempotency_key").max_length
    if len(key) > limit:
        raise HayonError(
            f"An Idempotency-Key has at most {limit} characters; this one has {len(key)}",
            code="idempotency_key_too_long",
            field="Idempotency-Key",
        )


def input_fingerprint(data: PostInput) -> str:
    """Return a SHA-256 of the post's input in a canonical form (keys sorted, no spaces)."""
    canonical = json.dumps(asdict(data), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def same_request(existing: Post, fingerprint: str) -> Post:
    """Return the post an idempotency key made, or refuse a key reused for other input."""
    # Posts made before fingerprints were stored have none: they are taken on trust.
    if existing.request_fingerprint and existing.request_fingerprint != fingerprint:
        raise Conflict(
            f"This Idempotency-Key made post {existing.pk} from a different body; use a new "
            "key for a new post",
            code="idempotency_key_reused",
            field="Idempotency-Key",
        )
    return existing


def store_post(
    owner, data: PostInput, checked: CheckedPost, idempotency_key: str, fingerprint: str = ""
) -> Post:
    due = checked.schedule.at or timezone.now()
    deliveries = [
        Delivery(
            account=account,
            platform=account.platform,
            text=(data.platform_content.get(str(account.pk)) or {}).get("text", ""),
            next_attempt_at=due,
            idempotency_key=get_publisher(account.platform).new_idempotency_key(),
        )
        for account in checked.accounts
    ]
    # The post's status comes from its deliveries as always; they are known before they are
    # written, so it is stored with the post instead of read back and updated.
    status = derive_status(
        is_draft=data.draft,
        scheduled=checked.schedule.at is not None,
        deliveries=[(d.status, d.attempt_count) for d in deliveries],
    )
    post = Post.objects.create(
        owner=owner,
        text=data.text,
        status=status,
        is_draft=data.draft,
        scheduled_at=checked.schedule.at,
        timezone=checked.schedule.timezone,
        options=data.options,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )

    attach_to_post(owner, post.pk, checked.media)
    PostMedia.objects.bulk_create(
        PostMedia(post=post, media=item, position=position)
        for position, item in enumerate(checked.media)
    )
    for delivery in deliveries:
        delivery.post = post
    Delivery.objects.bulk_create(deliveries)

    if not data.draft:
        enqueue_on_commit([d.pk for d in deliveries])
    return post


@dataclass
class ChangeSummary:
    """What a cancel or reschedule did to each delivery, for the response."""

    changed: list[int] = field(default_factory=list)
    unchanged: dict[int, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "unchanged": [{"delivery": k, "status": v} for k, v in self.unchanged.items()],
        }


def cancel_post(post: Post) -> ChangeSummary:
    """Cancel every delivery that has not started; report the ones that have, undo nothing."""
    summary = ChangeSummary()
    with transaction.atomic():
        for delivery in post.deliveries.select_for_update():
            if cancel_one(delivery):
                summary.changed.append(delivery.pk)
            else:
                summary.unchanged[delivery.pk] = delivery.status

    refresh_post_status(post.pk)
    if not summary.changed:
        raise Conflict(
            "Nothing left to cancel: every delivery has started or finished",
            code="nothing_to_cancel",
            errors=[
                {"code": "not_cancellable", "message": f"delivery {k} is {v}"}
                for k, v in summary.unchanged.items()
            ],
        )

    logger.info("post cancelled post=%s deliveries=%s", post.pk, summary.changed)
    return summary


def cancel_one(delivery: Delivery) -> bool:
    """Cancel a waiting delivery with a compare-and-set; return whether it was cancelled."""
    done = Delivery.objects.filter(pk=delivery.pk, status__in=WAITING).update(
        status=DeliveryStatus.CANCELLED,
        version=F("version") + 1,
        next_attempt_at=None,
        updated_at=timezone.now(),
    )
    return bool(done)


def cancel_delivery(delivery: Delivery) -> Delivery:
    if not cancel_one(delivery):
        raise Conflict(
            f"delivery {delivery.pk} is {delivery.status} and can no longer be cancelled",
            code="not_cancellable",
        )

    logger.info(
        "delivery cancelled post=%s delivery=%s platform=%s",
        delivery.post_id,
        delivery.pk,
        delivery.platform,
    )
    refresh_post_status(delivery.post_id)
    delivery.refresh_from_db()
    return delivery


def reschedule_post(post: Post, scheduled_at: str, tz_name: str | None) -> ChangeSummary:
    """Move every waiting delivery to the new time; deliveries already started keep going."""
    schedule = parse_schedule(scheduled_at, tz_name or None, default_tz=post.timezone)
    if schedule.at is None:
        raise HayonError("scheduled_at is required", code="required", field="scheduled_at")

    summary = ChangeSummary()
    with transaction.atomic():
        for delivery in post.deliveries.select_for_update():
            moved = Delivery.objects.filter(pk=delivery.pk, status__in=WAITING).update(
                status=DeliveryStatus.PENDING,
                next_attempt_at=schedule.at,
                enqueued_at=None,
                version=F("version") + 1,
                updated_at=timezone.now(),
            )
            if moved:
                summary.changed.append(delivery.pk)
            else:
                summary.unchanged[delivery.pk] = delivery.status

        if not summary.changed:
            raise Conflict(
                "Nothing left to reschedule: every delivery has started or finished",
                code="nothing_to_reschedule",
            )

        Post.objects.filter(pk=post.pk).update(
            scheduled_at=schedule.at, timezone=schedule.timezone
        )
        enqueue_on_commit(summary.changed)

    refresh_post_status(post.pk)
    logger.info(
        "post rescheduled post=%s at=%s deliveries=%s",
        post.pk,
        schedule.at.isoformat(),
        summary.changed,
    )
    return summary


def not_retryable(delivery: Delivery) -> Conflict:
    """Return the error for retrying a delivery in a status that cannot be retried."""
    return Conflict(
        f"delivery {delivery.pk} is {delivery.status}; only failed, parked or "
        "unconfirmed deliveries can be retried",
        code="not_retryable",
    )


def retry_delivery(delivery: Delivery) -> Delivery:
    """Send a failed, parked or unconfirmed delivery again, leaving its siblings alone.

    The retry budget starts afresh. A delivery that needs reconciling keeps needs_reconcile,
    so the platform is asked first and a post that did go out is recorded, not made twice.
    Retrying an unconfirmed delivery is also a person's word that it did not go out: when the
    platform still cannot tell, that word decides and the post is sent (RETRIED_BY_PERSON).
    """
    with transaction.atomic():
        locked = (
            Delivery.objects.select_for_update()
            .filter(pk=delivery.pk, status__in=RETRYABLE)
            .first()
        )
        if locked is None:
            raise not_retryable(delivery)

        state = locked.platform_state
        if locked.status == DeliveryStatus.UNCONFIRMED:
            state = {**state, RETRIED_BY_PERSON: True}
        # The row lock does nothing on SQLite: the compare-and-set holds there too.
        retried = Delivery.objects.filter(
            pk=locked.pk, version=locked.version, status=locked.status
        ).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=timezone.now(),
            enqueued_at=None,
            retry_base=F("attempt_count"),
            platform_state=state,
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        if not retried:
            raise not_retryable(delivery)
        enqueue_on_commit([delivery.pk])

    logger.info(
        "delivery retry requested post=%s delivery=%s platform=%s",
        delivery.post_id,
        delivery.pk,
        delivery.platform,
    )
    refresh_post_status(delivery.post_id)
    delivery.refresh_from_db()
    return delivery

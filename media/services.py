"""Media a person uploads: signing the upload, checking it when a post uses it, moving it.

posts/services.py calls `media_for_post` while checking a post (validate and create) and
`attach_to_post` inside the transaction that creates the post.
"""

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hayon.errors import Conflict, HayonError
from media import prepare
from media.checks import MediaProblem, check_upload
from media.images import EXTENSIONS, NotAnImage
from media.models import Media, MediaStatus
from media.storage import StorageError, UploadTarget, backend_of, default_backend_name
from platforms.models import Account
from platforms.registry import get_rules
from platforms.rules import MediaInfo

logger = logging.getLogger(__name__)

# The request field each of the platform rules' media problems is about, at signing time.
UPLOAD_FIELDS = {"media_type_refused": "content_type", "media_too_large": "size"}


@dataclass(frozen=True)
class MediaChoice:
    """A media id a post wants to use, with the alt text chosen for it."""

    media_id: int
    alt: str = ""


def start_upload(
    owner, filename: str, content_type: str, size: int, accounts: list[int] | None = None
) -> tuple[Media, UploadTarget]:
    """Create the media row and return it with where and how the client sends the bytes.

    Refuse a type or size no platform takes; with `accounts` (the caller's account ids),
    refuse one that none of those accounts' platforms takes. The key is ours
    (`temp/<owner>/<uuid>.<ext>`, the extension from the declared type); the filename is kept
    for display only.
    """
    extension = EXTENSIONS.get(content_type)
    if extension is None:
        accepted = ", ".join(EXTENSIONS)
        raise HayonError(
            f"{content_type} is not accepted; send one of {accepted}",
            code="media_type_refused",
            field="content_type",
        )
    limit = settings.HAYON_MEDIA_MAX_BYTES
    if size > limit:
        raise HayonError(
            f"{size} bytes is over the upload limit of {limit} bytes",
            code="media_too_large",
            field="size",
        )
    if accounts:
        check_accounts_take(owner, accounts, content_type, size)

    token = uuid.uuid4()
    media = Media(
        uuid=token,
        owner=owner,
        backend=default_backend_name(),
        filename=filename[:255],
        content_type=content_type,
        size=size,
        key=f"temp/{owner.pk}/{token}.{extension}",
    )
    target = backend_of(media).upload_target(media)
    media.upload_expires_at = target.expires_at
    media.save()

    logger.info(
        "media upload signed media=%s owner=%s type=%s bytes=%s backend=%s",
        media.pk,
        owner.pk,
        content_type,
        size,
        media.backend,
    )
    return media, target


def check_accounts_take(owner, account_ids: list[int], content_type: str, size: int) -> None:
    """Raise HayonError unless one of the caller's accounts would take this file.

    Each account is held to its platform's rules (platforms/<platform>/rules.py), the same
    ones a post is checked against, so a Mastodon account gets its instance's limits. Another
    user's account id is reported like a missing one, as posts do.
    """
    found = {a.pk: a for a in Account.objects.owned_by(owner).filter(pk__in=account_ids)}
    missing = [
        problem("account_not_found", f"account {account_id} does not exist", f"accounts[{i}]")
        for i, account_id in enumerate(account_ids)
        if account_id not in found
    ]
    if missing:
        first = missing[0]
        raise HayonError(
            first["message"], code=first["code"], field=first["field"], errors=missing
        )

    info = MediaInfo(content_type=content_type, size=size, width=0, height=0)
    refusals = []
    wanted = [found[account_id] for account_id in dict.fromkeys(account_ids)]
    for account in wanted:
        rules = get_rules(account.platform)
        problems = rules.item_problems(account, 0, info, rules.limits(account))
        if not problems:
            return
        refusals += [
            {**p.as_dict(), "field": UPLOAD_FIELDS.get(p.code), "account": account.pk}
            for p in problems
        ]

    first = refusals[0]
    message = "; ".join(r["message"] for r in refusals)
    if len(wanted) > 1:
        message = f"none of the selected accounts takes this file: {message}"
    raise HayonError(message, code=first["code"], field=first["field"], errors=refusals)


def media_for_post(owner, choices: list[MediaChoice]) -> tuple[list[Media], list[dict]]:
    """Return the caller's checked media in the order asked, and a problem for each bad one.

    Another user's media id is reported exactly like a missing one, so ids reveal nothing.
    Each object is checked where it lies (media/checks.py); width, height and ETag are set on
    the returned rows, not saved: `attach_to_post` saves them with the post.
    """
    wanted = [choice.media_id for choice in choices]
    found = {m.pk: m for m in Media.objects.owned_by(owner).filter(pk__in=wanted)}
    media: list[Media] = []
    problems: list[dict[str, Any]] = []

    for position, choice in enumerate(choices):
        where = f"media[{position}].id"
        item = found.get(choice.media_id)
        if item is None:
            problems.append(
                problem("media_not_found", f"media {choice.media_id} does not exist", where)
            )
            continue
        if choice.media_id in wanted[:position]:
            problems.append(problem("media_repeated", f"media {item.pk} is used twice", where))
            continue

        try:
            item.checked_data = check_upload(item, backend_of(item))
        except MediaProblem as exc:
            problems.append(problem(exc.code, exc.message, where))
            continue
        except StorageError as exc:
            problems.append(problem("storage_unavailable", f"media {item.pk}: {exc}", where))
            continue

        item.alt = choice.alt or item.alt
        media.append(item)

    return media, problems


def problem(code: str, message: str, field: str) -> dict[str, str]:
    return {"code": code, "message": message, "field": field}


def post_key(media: Media, post_id: int) -> str:
    return f"posts/{media.owner_id}/{post_id}/{media.uuid}.{media.extension}"


def thumbnail_key(key: str) -> str:
    """Return where the thumbnail of the object at `key` is kept: beside it."""
    return key.rsplit(".", 1)[0] + ".thumb.jpg"


def attach_to_post(owner, post_id: int, media: list[Media]) -> None:
    """Move each checked upload under the post, save its facts, and mark it used.

    Runs inside the transaction that creates the post. The copy is made now, so a committed
    row always names an object that exists; the temp/ object is deleted only once the
    transaction commits. If it rolls back, the row still names its temp/ object, the user can
    try again, and the copy under posts/<owner>/<post>/ is left unreferenced: harmless, and
    removed by `manage.py media_cleanup` (see docs/media.md).
    """
    ids = [item.pk for item in media]
    mine = Media.objects.select_for_update().filter(pk__in=ids, owner=owner)
    locked = dict(mine.values_list("pk", "status"))

    for item in media:
        # Two posts racing for one upload: the row lock decides, the loser gets a 409.
        if locked.get(item.pk) != MediaStatus.AWAITING_UPLOAD:
            raise Conflict(
                f"media {item.pk} is already used by a post; upload the image again",
                code="media_in_use",
                field="media",
            )
        move_under_post(item, post_id)


def move_under_post(item: Media, post_id: int) -> None:
    backend = backend_of(item)
    upload_key, destination = item.key, post_key(item, post_id)
    data = getattr(item, "checked_data", None)

    try:
        backend.copy(upload_key, destination, etag=item.etag)
        if data is not None:
            thumb = prepare.thumbnail(data)
            item.thumbnail_key = thumbnail_key(destination)
            backend.save(item.thumbnail_key, thumb.data, thumb.content_type)
    except (StorageError, NotAnImage) as exc:
        raise HayonError(
            f"media {item.pk} could not be stored: {exc}", code="storage_unavailable"
        ) from exc

    item.key = destination
    item.status = MediaStatus.READY
    item.attached_at = timezone.now()
    item.save(
        update_fields=[
            "key",
            "thumbnail_key",
            "status",
            "attached_at",
            "width",
            "height",
            "etag",
            "alt",
            "updated_at",
        ]
    )
    transaction.on_commit(lambda: delete_quietly(item, upload_key))
    logger.info(
        "media attached media=%s post=%s owner=%s key=%s",
        item.pk,
        post_id,
        item.owner_id,
        destination,
    )


def delete_quietly(item: Media, key: str) -> None:
    """Delete an object nobody needs any more; a failure is only logged (the temp/ lifecycle
    rule or media_cleanup removes it later)."""
    try:
        backend_of(item).delete(key)
    except StorageError:
        logger.warning("media object left behind media=%s key=%s", item.pk, key, exc_info=True)


def delete_unused(media: Media) -> None:
    """Delete a media row no post uses, with its object; refuse one a post uses."""
    if media.status == MediaStatus.READY:
        raise Conflict(
            f"media {media.pk} is used by a post and cannot be deleted", code="media_in_use"
        )

    media_id, key = media.pk, media.key
    media.delete()
    delete_quietly(media, key)
    logger.info("media deleted media=%s owner=%s", media_id, media.owner_id)


def copy_for_post(item: Media, post_id: int) -> Media:
    """Return a new media row for `post_id` holding a copy of the item's object and thumbnail."""
    copy = Media(
        owner=item.owner,
        backend=item.backend,
        status=MediaStatus.READY,
        filename=item.filename,
        content_type=item.content_type,
        size=item.size,
        key=item.key,
        width=item.width,
        height=item.height,
        alt=item.alt,
        etag=item.etag,
        attached_at=timezone.now(),
    )
    copy.key = post_key(copy, post_id)
    backend = backend_of(item)

    try:
        # The object was copied once already, under the post; pin the copy to what is there.
        stored = backend.head(item.key)
        if stored is None:
            raise StorageError(f"{item.key} is missing")
        backend.copy(item.key, copy.key, etag=stored.etag)
        copy.etag = stored.etag
        if item.thumbnail_key:
            copy.thumbnail_key = thumbnail_key(copy.key)
            backend.save(copy.thumbnail_key, backend.read(item.thumbnail_key), "image/jpeg")
    except StorageError as exc:
        raise HayonError(
            f"media {item.pk} could not be copied: {exc}", code="storage_unavailable"
        ) from exc

    copy.save()
    return copy

"""Media checks when a post uses uploads: owner, upload finished, size and real type."""

from dataclasses import dataclass

from hayon.errors import HayonError
from media.models import Media


@dataclass(frozen=True)
class MediaChoice:
    """A media id a post wants to use, with the alt text chosen for it."""

    media_id: int
    alt: str = ""


def media_for_post(owner, choices: list[MediaChoice]) -> tuple[list[Media], list[dict]]:
    """Return the caller's media in the order asked, and a problem for each unusable id.

    Another user's media id is reported exactly like a missing one, so ids reveal nothing.
    """
    found = {
        m.pk: m for m in Media.objects.owned_by(owner).filter(pk__in=[c.media_id for c in choices])
    }
    media, problems = [], []

    for position, choice in enumerate(choices):
        item = found.get(choice.media_id)
        if item is None:
            problems.append(
                {
                    "code": "media_not_found",
                    "message": f"media {choice.media_id} does not exist",
                    "field": f"media[{position}].id",
                }
            )
            continue
        item.alt = choice.alt or item.alt
        media.append(item)

    return media, problems


def attach_to_post(owner, post_id: int, media: list[Media]) -> None:
    """Store the checked media under the post (see media/uploads.py for the S3 flow)."""
    for item in media:
        item.save(update_fields=["alt", "updated_at"])


def check_upload(item: Media) -> None:
    """Raise HayonError when the object behind a media row is not what was declared."""
    if item.status != "ready":
        raise HayonError(
            f"media {item.pk} has not finished uploading", code="upload_missing", field="media"
        )

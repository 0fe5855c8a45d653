"""What each platform accepts, checked before a post is created.

Every platform module has a `rules` object with the same interface. Checks return problems
rather than raising, so the compose page and the API can show every problem at once.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from platforms.models import Account


@dataclass(frozen=True)
class MediaInfo:
    """What the rules need to know about one image: no bytes, no storage."""

    content_type: str
    size: int
    width: int
    height: int
    alt: str = ""


@dataclass
class Problem:
    code: str
    message: str
    field: str = "text"
    limit: int | None = None
    measured: int | None = None
    severity: str = "error"

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Report:
    """The outcome of checking one post for one account."""

    account_id: int
    platform: str
    handle: str
    measured: int
    limit: int
    unit: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account_id,
            "platform": self.platform,
            "handle": self.handle,
            "measured": self.measured,
            "limit": self.limit,
            "unit": self.unit,
            "ok": not self.errors,
            "problems": [p.as_dict() for p in self.problems],
        }


class PlatformRules:
    """Base rules: subclasses set the limits and say how text is measured."""

    platform: str = ""
    unit: str = "characters"
    max_media: int = 4
    max_image_bytes: int = 5_000_000
    image_types: tuple[str, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp")
    max_alt_length: int | None = None
    requires_media: bool = False

    def text_limit(self, account: Account) -> int:
        raise NotImplementedError

    def measure(self, text: str, account: Account) -> int:
        raise NotImplementedError

    def extra_text_problems(self, text: str, account: Account) -> list[Problem]:
        return []

    def check(
        self,
        account: Account,
        text: str,
        media: Sequence[MediaInfo] = (),
        options: dict[str, Any] | None = None,
    ) -> Report:
        """Return the report for one account: its count, its limit and every problem found."""
        measured = self.measure(text, account)
        limit = self.text_limit(account)
        report = Report(account.pk, self.platform, account.handle, measured, limit, self.unit)

        if measured > limit:
            report.problems.append(
                Problem(
                    "text_too_long",
                    f"{account} allows {limit} {self.unit}; this text has {measured}",
                    limit=limit,
                    measured=measured,
                )
            )
        report.problems.extend(self.extra_text_problems(text, account))
        report.problems.extend(self.media_problems(account, media))

        return report

    def media_problems(self, account: Account, media: Sequence[MediaInfo]) -> list[Problem]:
        problems = []
        if self.requires_media and not media:
            problems.append(
                Problem("media_required", f"{account} needs at least one image", field="media")
            )
        if len(media) > self.max_media:
            problems.append(
                Problem(
                    "too_many_media",
                    f"{account} takes at most {self.max_media} images; this post has {len(media)}",
                    field="media",
                    limit=self.max_media,
                    measured=len(media),
                )
            )
        for position, item in enumerate(media):
            problems.extend(self.image_problems(account, position, item))
        return problems

    def image_problems(self, account: Account, position: int, item: MediaInfo) -> list[Problem]:
        where = f"media[{position}]"
        problems = []
        if item.content_type not in self.image_types:
            problems.append(
                Problem(
                    "media_type_refused",
                    f"{account} does not take {item.content_type} images",
                    field=where,
                )
            )
        if self.max_alt_length is not None and len(item.alt) > self.max_alt_length:
            problems.append(
                Problem(
                    "alt_too_long",
                    f"{account} allows {self.max_alt_length} characters of alt text",
                    field=f"{where}.alt",
                    limit=self.max_alt_length,
                    measured=len(item.alt),
                )
            )
        return problems

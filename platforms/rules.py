"""What each platform accepts, checked before a post is created.

Every platform package has a `rules` object with the same interface: `check(account, text,
media, options)` returns a Report with the measured length, the limit and every problem, so
the compose page and the API can show all of them at once. Limits that differ per account
(a Mastodon instance's) come from `account.limits`; docs/platform-rules.md lists them all.
"""

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

from platforms.models import Account
from platforms.text import code_point_count

MB = 1_000_000


@dataclass(frozen=True)
class MediaInfo:
    """What the rules need to know about one image: no bytes, no storage."""

    content_type: str
    size: int
    width: int
    height: int
    alt: str = ""

    @property
    def is_video(self) -> bool:
        return self.content_type.startswith("video/")


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

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

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


@dataclass(frozen=True)
class Limits:
    """The numbers one account is held to; None means the platform sets no such limit."""

    text: int
    media: int
    image_bytes: int
    image_types: tuple[str, ...]
    video_types: tuple[str, ...] = ()
    video_bytes: int = 0
    alt: int | None = None
    links: int | None = None
    hashtags: int | None = None
    mentions: int | None = None


class PlatformRules:
    """Base rules. A subclass says how text is measured and which limits apply."""

    platform: str = ""
    unit: str = "characters"
    alt_unit: str = "characters"
    requires_media: bool = False
    # A video must be the only attachment (Mastodon, Bluesky); Meta's carousels mix freely.
    video_stands_alone: bool = True
    # Width / height bounds, inclusive, where the platform refuses other shapes.
    aspect_range: tuple[Fraction, Fraction] | None = None
    # Post options (visibility, spoiler_text, langs) this platform's publisher sends.
    options_taken: frozenset[str] = frozenset()

    def limits(self, account: Account) -> Limits:
        raise NotImplementedError

    def measure(self, text: str, account: Account, options: Mapping[str, Any]) -> int:
        """Return the text's length as the platform counts it against `limits().text`."""
        raise NotImplementedError

    def measure_alt(self, alt: str) -> int:
        return code_point_count(alt)

    def text_problems(
        self, text: str, account: Account, options: Mapping[str, Any], limits: Limits
    ) -> list[Problem]:
        """Return problems beyond the length: links, hashtags, mentions, byte caps."""
        return []

    def check(
        self,
        account: Account,
        text: str,
        media: Sequence[MediaInfo] = (),
        options: Mapping[str, Any] | None = None,
    ) -> Report:
        """Return the report for one account: its count, its limit and every problem found."""
        options = options or {}
        limits = self.limits(account)
        measured = self.measure(text, account, options)
        report = Report(
            account.pk, self.platform, account.handle, measured, limits.text, self.unit
        )

        if measured > limits.text:
            report.problems.append(
                Problem(
                    "text_too_long",
                    f"{account} allows {limits.text} {self.unit}; this text has {measured}",
                    limit=limits.text,
                    measured=measured,
                )
            )
        if not text.strip() and not media and not self.requires_media:
            report.problems.append(Problem("text_required", f"{account} needs text or an image"))
        report.problems.extend(self.text_problems(text, account, options, limits))
        report.problems.extend(self.media_problems(account, media, limits))
        report.problems.extend(self.option_warnings(account, options))

        return report

    def option_warnings(self, account: Account, options: Mapping[str, Any]) -> list[Problem]:
        """Warn about options set for the post that this platform has no place for."""
        return [
            Problem(
                "option_not_sent",
                f"{account} has no {name.replace('_', ' ')}; the post goes out without it",
                field=name,
                severity="warning",
            )
            for name, value in options.items()
            if value and name not in self.options_taken
        ]

    def media_problems(
        self, account: Account, media: Sequence[MediaInfo], limits: Limits
    ) -> list[Problem]:
        problems = []
        if self.requires_media and not media:
            problems.append(
                Problem("media_required", f"{account} needs at least one image", field="media")
            )

        if len(media) > limits.media:
            problems.append(
                Problem(
                    "too_many_media",
                    f"{account} takes at most {limits.media} images; this post has {len(media)}",
                    field="media",
                    limit=limits.media,
                    measured=len(media),
                )
            )

        if self.video_stands_alone and len(media) > 1 and any(m.is_video for m in media):
            problems.append(
                Problem(
                    "video_not_alone",
                    f"{account} takes a video only as the post's single attachment",
                    field="media",
                )
            )

        for position, item in enumerate(media):
            problems.extend(self.item_problems(account, position, item, limits))
        return problems

    def item_problems(
        self, account: Account, position: int, item: MediaInfo, limits: Limits
    ) -> list[Problem]:
        where = f"media[{position}]"
        accepted = limits.video_types if item.is_video else limits.image_types
        if item.content_type not in accepted:
            kinds = ", ".join(t.split("/")[1].upper() for t in limits.image_types)
            return [
                Problem(
                    "media_type_refused",
                    f"{account} does not take {item.content_type}; it takes {kinds}",
                    field=where,
                )
            ]

        problems = []
        cap = limits.video_bytes if item.is_video else limits.image_bytes
        if item.size > cap:
            problems.append(
                Problem(
                    "media_too_large",
                    f"{account} takes files up to {cap / MB:g} MB; this one has "
                    f"{item.size / MB:.1f} MB",
                    field=where,
                    limit=cap,
                    measured=item.size,
                )
            )

        alt_length = self.measure_alt(item.alt)
        if limits.alt is not None and alt_length > limits.alt:
            problems.append(
                Problem(
                    "alt_too_long",
                    f"{account} allows {limits.alt} {self.alt_unit} of alt text; this has "
                    f"{alt_length}",
                    field=f"{where}.alt",
                    limit=limits.alt,
                    measured=alt_length,
                )
            )

        problems.extend(self.shape_problems(account, where, item))
        return problems

    def shape_problems(self, account: Account, where: str, item: MediaInfo) -> list[Problem]:
        if self.aspect_range is None or item.is_video or not (item.width and item.height):
            return []

        low, high = self.aspect_range
        ratio = Fraction(item.width, item.height)
        if low <= ratio <= high:
            return []
        return [
            Problem(
                "aspect_ratio_refused",
                f"{account} takes images from {ratio_label(low)} to {ratio_label(high)} "
                f"(width:height); this one is {item.width}x{item.height}",
                field=where,
            )
        ]


def ratio_label(ratio: Fraction) -> str:
    if ratio.denominator in (1, 5, 4):
        return f"{ratio.numerator}:{ratio.denominator}"
    return f"{float(ratio):g}:1"


def count_problem(
    code: str, what: str, account: Account, found: int, limit: int | None
) -> list[Problem]:
    """Return a problem when `found` things exceed the platform's `limit` of them."""
    if limit is None or found <= limit:
        return []
    return [
        Problem(
            code,
            f"{account} allows at most {limit} {what}; this text has {found}",
            limit=limit,
            measured=found,
        )
    ]

"""Reading a requested publication time.

Accepted: ISO 8601 with an offset (`2026-12-24T09:00:00+01:00`, `...Z`), or a local date-time
without offset together with an IANA `timezone`. Local times that fall in a daylight-saving
gap or overlap follow one rule, documented in docs/scheduling.md:

- gap (the clock jumps forward, e.g. 02:30 on 2026-03-29 in Europe/Berlin): the time moves
  forward by the length of the gap, to 03:30 local;
- overlap (the clock falls back, e.g. 02:30 on 2026-10-25 in Europe/Berlin): the first of
  the two instants, still in summer time (00:30 UTC).

The chosen instant is returned in UTC together with a note saying which rule applied.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

from hayon.errors import HayonError

DST_GAP = "dst_gap_moved_forward"
DST_OVERLAP = "dst_overlap_first_occurrence"


@dataclass(frozen=True)
class Schedule:
    at: datetime | None
    timezone: str
    note: str = ""


def zone(name: str) -> ZoneInfo:
    """Return the IANA zone or raise a 400 naming it."""
    try:
        if not name or ("/" not in name and name != "UTC"):
            raise ZoneInfoNotFoundError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise HayonError(
            f"Unknown timezone {name!r}: use an IANA name such as 'Europe/Berlin'",
            code="unknown_timezone",
            field="timezone",
        ) from exc


def localize(naive: datetime, tz: ZoneInfo) -> tuple[datetime, str]:
    """Return the aware instant for a local wall-clock time and the DST rule that applied."""
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first, ""

    round_trip = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if round_trip != naive:
        # fold=0 in a gap reads the time with the offset from before the jump, which lands
        # exactly one gap length later on the new clock: the documented "move forward".
        return first, DST_GAP
    return first, DST_OVERLAP


def parse_schedule(
    value: str | None, tz_name: str | None, *, default_tz: str | None = None
) -> Schedule:
    """Return the schedule for a request's scheduled_at and timezone; raise HayonError if bad.

    A time without an offset is read in `tz_name`; without one it is refused rather than
    guessed (`default_tz`, a moved post's own zone, is only the zone recorded, because a post
    written with an offset records UTC, which its author may never have meant). The instant
    is rounded up to a whole second, the resolution Hayon schedules at.
    """
    tz_label = tz_name or default_tz or "UTC"
    tz = zone(tz_label)
    if value in (None, ""):
        return Schedule(None, tz_label)

    try:
        parsed = datetime.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise HayonError(
            f"scheduled_at {value!r} is not an ISO 8601 date-time",
            code="invalid_datetime",
            field="scheduled_at",
        ) from exc

    note = ""
    if parsed.tzinfo is None:
        if not tz_name:
            raise HayonError(
                "scheduled_at has no UTC offset: add one (e.g. +01:00 or Z) or send the "
                "timezone it is written in",
                code="naive_datetime",
                field="scheduled_at",
            )
        parsed, note = localize(parsed, tz)

    at = whole_second(parsed.astimezone(UTC))
    check_window(at)
    return Schedule(at, tz_label, note)


def whole_second(at: datetime) -> datetime:
    """Return the instant rounded up to a whole second: a post may be late by less than a
    second, never early."""
    if at.microsecond:
        return at.replace(microsecond=0) + timedelta(seconds=1)
    return at


def check_window(at: datetime) -> None:
    now = timezone.now()
    grace = timedelta(seconds=settings.HAYON_SCHEDULE_GRACE)
    if at < now - grace:
        raise HayonError(
            f"scheduled_at {at.isoformat()} is in the past; choose a later time or post now",
            code="in_past",
            field="scheduled_at",
        )

    furthest = now + timedelta(days=settings.HAYON_MAX_SCHEDULE_DAYS)
    if at > furthest:
        raise HayonError(
            f"scheduled_at {at.isoformat()} is more than {settings.HAYON_MAX_SCHEDULE_DAYS} days "
            "ahead, the furthest Hayon schedules",
            code="too_far",
            field="scheduled_at",
        )

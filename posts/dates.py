"""Posts on a user's calendar: when a post goes out, and calendar days in the user's zone.

The pages and the API filter by the same rule, so a day in the posts list, the calendar and
`GET /api/posts/?date_from=...&timezone=...` holds the same posts.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest

from hayon.errors import HayonError
from posts.models import Post
from posts.schedule import zone

# Set by static/hayon/app.js to the browser's zone; the API reads it too for session clients.
ZONE_COOKIE = "hayon_tz"


def user_zone(request: HttpRequest) -> ZoneInfo:
    """Return the zone the browser reported in its cookie, or UTC before it has."""
    try:
        return zone(request.COOKIES.get(ZONE_COOKIE, "UTC"))
    except HayonError:
        return ZoneInfo("UTC")


def with_when(posts: QuerySet[Post]) -> QuerySet[Post]:
    """Annotate `when`: the time a post goes (or went) out; created_at for 'post now'."""
    return posts.annotate(when=Coalesce("scheduled_at", "created_at"))


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Return the first instant of a calendar day in a zone.

    In the few zones whose clocks jump at midnight, 00:00 does not exist on that day;
    zoneinfo then reads it with the offset from before the jump, which is the day's first
    real instant.
    """
    return datetime.combine(day, time.min, tzinfo=tz)


def within_days(
    posts: QuerySet[Post], first: date | None, last: date | None, tz: ZoneInfo
) -> QuerySet[Post]:
    """Keep posts (annotated by with_when) that go out on the days first..last, inclusive."""
    if first:
        posts = posts.filter(when__gte=day_start(first, tz))

    if last:
        posts = posts.filter(when__lt=day_start(last + timedelta(days=1), tz))

    return posts

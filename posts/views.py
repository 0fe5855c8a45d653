"""Server-rendered pages for posts: dashboard, compose, list, calendar and the post page.

The pages read with the ORM and render; every change goes through the same REST API that
clients use (the page's JavaScript calls it with the session and the CSRF token), so the
rules live in one place. Times are shown in the browser's timezone, which static/hayon/app.js
keeps in the `hayon_tz` cookie.
"""

import calendar
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from media.serializers import media_urls
from media.storage import StorageError
from platforms.models import Account, AccountHealth
from posts.dates import day_start, user_zone, with_when, within_days
from posts.models import RETRYABLE, WAITING, Delivery, DeliveryStatus, Post, PostStatus
from posts.schedule import zone

logger = logging.getLogger(__name__)

ATTENTION = (
    DeliveryStatus.FAILED,
    DeliveryStatus.PARKED,
    DeliveryStatus.UNCONFIRMED,
    DeliveryStatus.RETRYING,
)
PAGE_SIZE = 25

# What each delivery status means for the person who wrote the post, and what to do next.
STATUS_HINTS = {
    "pending": "Waiting for its time.",
    "queued": "Handed to the publisher; it goes out at its time.",
    "publishing": "Being sent to the platform right now.",
    "published": "Live on the platform.",
    "retrying": "The platform did not take it yet; Hayon tries again by itself.",
    "failed": "Not published. Fix the cause below, then retry.",
    "parked": "Hayon gave up after several tries. Retry once the platform works again.",
    "unconfirmed": (
        "Hayon cannot tell whether this went out. Look for it on the platform; if it is not "
        "there, retry."
    ),
    "cancelled": "Cancelled: it will not be published.",
}


def page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    """Render a page with times shown in the user's zone."""
    tz = user_zone(request)
    with timezone.override(tz):
        return render(request, template, {**context, "zone_name": tz.key})


@cache
def timezone_names() -> list[str]:
    return sorted(name for name in available_timezones() if "/" in name or name == "UTC")


def owned_posts(request: HttpRequest) -> QuerySet[Post]:
    return Post.objects.owned_by(request.user).prefetch_related(
        Prefetch("deliveries", queryset=Delivery.objects.select_related("account"))
    )


def accounts_needing_reconnect(request: HttpRequest) -> QuerySet[Account]:
    return Account.objects.owned_by(request.user).filter(health=AccountHealth.NEEDS_RECONNECT)


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    posts = with_when(owned_posts(request))
    live = posts.filter(is_draft=False)

    upcoming = live.filter(
        status__in=[PostStatus.PENDING, PostStatus.SCHEDULED, PostStatus.PROCESSING]
    ).order_by("when")[:10]
    failing = live.filter(deliveries__status__in=ATTENTION).distinct().order_by("-updated_at")[:10]
    recent = live.filter(status__in=[PostStatus.COMPLETED, PostStatus.PARTIAL_SUCCESS]).order_by(
        "-updated_at"
    )[:10]
    drafts = posts.filter(is_draft=True).order_by("-updated_at")[:10]

    return page(
        request,
        "posts/dashboard.html",
        {
            "upcoming": upcoming,
            "failing": failing,
            "recent": recent,
            "drafts": drafts,
            "reconnect": accounts_needing_reconnect(request),
            "has_accounts": Account.objects.owned_by(request.user)
            .exclude(health=AccountHealth.REVOKED)
            .exists(),
        },
    )


class PostFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *PostStatus.choices], required=False)
    account = forms.ModelChoiceField(
        queryset=Account.objects.none(), required=False, empty_label="Any account"
    )
    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="Until", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.owned_by(user)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end date is before the start date.")
        return data


def filter_posts(posts: QuerySet[Post], data: dict, tz: ZoneInfo) -> QuerySet[Post]:
    if data.get("status"):
        posts = posts.filter(status=data["status"])
    if data.get("account"):
        posts = posts.filter(deliveries__account=data["account"]).distinct()
    return within_days(posts, data.get("start"), data.get("end"), tz)


@login_required
def post_list(request: HttpRequest) -> HttpResponse:
    tz = user_zone(request)
    form = PostFilterForm(request.GET or None, user=request.user)
    posts = with_when(owned_posts(request)).order_by("-when")

    if form.is_bound and form.is_valid():
        posts = filter_posts(posts, form.cleaned_data, tz)

    paginator = Paginator(posts, PAGE_SIZE)
    posts_page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)

    return page(
        request,
        "posts/list.html",
        {"form": form, "page_obj": posts_page, "query": query.urlencode()},
    )


@dataclass
class CalendarDay:
    day: date
    in_range: bool
    is_today: bool
    posts: list[Post] = field(default_factory=list)


def calendar_range(view: str, anchor: date) -> tuple[date, date, date, date]:
    """Return (first shown, after last shown, previous anchor, next anchor) for a view."""
    if view == "week":
        start = anchor - timedelta(days=anchor.weekday())
        return (
            start,
            start + timedelta(days=7),
            start - timedelta(days=7),
            start + timedelta(days=7),
        )

    first = anchor.replace(day=1)
    days = calendar.monthrange(first.year, first.month)[1]
    after = first + timedelta(days=days)
    start = first - timedelta(days=first.weekday())
    end = after + timedelta(days=(7 - after.weekday()) % 7)
    previous = (first - timedelta(days=1)).replace(day=1)
    return start, end, previous, after


def parse_anchor(value: str | None, today: date) -> date:
    try:
        return date.fromisoformat(value) if value else today
    except ValueError:
        return today


@login_required
def post_calendar(request: HttpRequest) -> HttpResponse:
    tz = user_zone(request)
    view = "week" if request.GET.get("view") == "week" else "month"
    today = timezone.localtime(timezone.now(), tz).date()
    anchor = parse_anchor(request.GET.get("date"), today)
    start, end, previous, following = calendar_range(view, anchor)

    posts = (
        with_when(owned_posts(request))
        .filter(is_draft=False)
        .filter(when__gte=day_start(start, tz), when__lt=day_start(end, tz))
        .order_by("when")
    )
    days = {
        start + timedelta(days=n): CalendarDay(
            start + timedelta(days=n),
            in_range=view == "week" or (start + timedelta(days=n)).month == anchor.month,
            is_today=start + timedelta(days=n) == today,
        )
        for n in range((end - start).days)
    }
    for post in posts:
        days[timezone.localtime(post.when, tz).date()].posts.append(post)

    ordered = list(days.values())
    return page(
        request,
        "posts/calendar.html",
        {
            "view": view,
            "anchor": anchor,
            "weeks": [ordered[i : i + 7] for i in range(0, len(ordered), 7)],
            "previous": previous,
            "following": following,
            "today": today,
            "weekdays": list(calendar.day_abbr),
        },
    )


def media_preview(post: Post) -> list[dict]:
    """Return the post's images with a URL the browser can show, where storage gives one."""
    items = []
    for item in post.post_media.select_related("media"):
        media = item.media
        try:
            urls = media_urls(media)
        except StorageError:
            # Storage misconfigured or unreachable: show the alt text without the picture.
            logger.warning("no preview URL for media=%s post=%s", media.pk, post.pk)
            urls = {}
        url = urls.get("thumbnail_url") or urls.get("url") or ""
        items.append({"id": media.pk, "alt": media.alt, "url": url, "name": media.filename})
    return items


@login_required
def post_detail(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(owned_posts(request), pk=pk)
    deliveries = list(post.deliveries.all())
    for delivery in deliveries:
        delivery.hint = STATUS_HINTS.get(delivery.status, "")

    retryable = [status.value for status in RETRYABLE]
    waiting = [status.value for status in WAITING]
    return page(
        request,
        "posts/detail.html",
        {
            "post": post,
            "deliveries": deliveries,
            "media": media_preview(post),
            "can_cancel": any(d.status in waiting for d in deliveries) and not post.is_draft,
            "retryable": retryable,
            "waiting": waiting,
            "timezones": timezone_names(),
            "config": {
                "id": post.pk,
                "draft": post.is_draft,
                "hints": STATUS_HINTS,
                "retryable": retryable,
                "waiting": waiting,
                "delivery_labels": dict(DeliveryStatus.choices),
                "post_labels": dict(PostStatus.choices),
            },
        },
    )


def compose_initial(request: HttpRequest) -> dict:
    """Return what the compose page starts with: nothing, or the draft named in ?draft=."""
    draft_id = request.GET.get("draft", "")
    if not draft_id.isdigit():
        return {}

    draft = get_object_or_404(owned_posts(request), pk=int(draft_id), is_draft=True)
    deliveries = list(draft.deliveries.all())
    initial = {
        "draft_id": draft.pk,
        "text": draft.text,
        "accounts": [d.account_id for d in deliveries],
        "platform_content": {str(d.account_id): {"text": d.text} for d in deliveries if d.text},
        "media": media_preview(draft),
        "timezone": draft.timezone,
    }
    if draft.scheduled_at:
        local = timezone.localtime(draft.scheduled_at, zone(draft.timezone))
        initial["date"] = local.date().isoformat()
        initial["time"] = local.strftime("%H:%M")
    return initial


@login_required
def compose(request: HttpRequest) -> HttpResponse:
    accounts = list(Account.objects.owned_by(request.user).exclude(health=AccountHealth.REVOKED))
    account_data = {
        str(a.pk): {"platform": a.platform, "label": a.get_platform_display(), "handle": a.handle}
        for a in accounts
    }

    return page(
        request,
        "posts/compose.html",
        {
            "accounts": accounts,
            "account_data": account_data,
            "initial": compose_initial(request),
            "timezones": timezone_names(),
        },
    )

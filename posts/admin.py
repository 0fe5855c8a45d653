"""Posts, deliveries and attempts in Django admin, and the deliveries that wait for a person.

Nothing here sets a status by hand except through the services: replaying a parked delivery
goes through the parking lot (posts/parking.py, which takes its message out of the queue),
any other through posts.services.retry_delivery; resolving by hand through
posts/resolution.py, cancelling through posts.services.cancel_post. The post status is
always derived from its deliveries.
"""

import logging

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from hayon.errors import HayonError
from platforms.names import Platform
from posts import parking, resolution, services
from posts.models import Attempt, Delivery, DeliveryStatus, Post

logger = logging.getLogger(__name__)

NEEDS_A_PERSON = (DeliveryStatus.PARKED, DeliveryStatus.UNCONFIRMED)


def excerpt(text: str, words: int = 12) -> str:
    return Truncator(text).words(words) or "(no text)"


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class DeliveryInline(ReadOnlyInline):
    model = Delivery
    fields = [
        "account",
        "platform",
        "status",
        "attempt_count",
        "next_attempt_at",
        "live_link",
        "error_message",
    ]
    readonly_fields = fields

    @admin.display(description="Live post")
    def live_link(self, delivery: Delivery) -> str:
        if not delivery.remote_url:
            return "-"
        return format_html('<a href="{}" rel="noopener">{}</a>', delivery.remote_url, "open")


class AttemptInline(ReadOnlyInline):
    model = Attempt
    show_change_link = False
    fields = [
        "number",
        "started_at",
        "finished_at",
        "outcome",
        "http_status",
        "error_code",
        "error_message",
        "retry_at",
        "worker",
    ]
    readonly_fields = fields


class DeliveryPlatformFilter(admin.SimpleListFilter):
    title = "platform"
    parameter_name = "platform"

    def lookups(self, request, model_admin):
        return Platform.choices

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(deliveries__platform=self.value()).distinct()
        return queryset


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["id", "owner", "short_text", "status", "scheduled_at", "created_at"]
    list_display_links = ["id", "short_text"]
    list_filter = ["status", DeliveryPlatformFilter, "is_draft"]
    search_fields = ["text", "deliveries__account__handle", "owner__username"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    fields = [
        "owner",
        "text",
        "status",
        "is_draft",
        "scheduled_at",
        "timezone",
        "options",
        "idempotency_key",
        "created_at",
        "updated_at",
        "attempt_log",
    ]
    readonly_fields = fields
    inlines = [DeliveryInline]
    actions = ["cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Posts are made through the compose page or the API, which check them per platform.
        return False

    @admin.display(description="Text")
    def short_text(self, post: Post) -> str:
        return excerpt(post.text)

    @admin.display(description="Attempts")
    def attempt_log(self, post: Post) -> str:
        attempts = (
            Attempt.objects.filter(delivery__post=post)
            .select_related("delivery")
            .order_by("started_at", "id")
        )
        if not attempts:
            return "No platform calls yet."

        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    a.delivery.platform,
                    a.number,
                    a.started_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                    a.get_outcome_display(),
                    a.http_status or "",
                    a.error_message,
                )
                for a in attempts
            ),
        )
        return format_html(
            "<table><thead><tr><th>Platform</th><th>#</th><th>Started</th><th>Outcome</th>"
            "<th>HTTP</th><th>Error</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.action(description="Cancel what has not started")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Post]) -> None:
        for post in queryset:
            try:
                summary = services.cancel_post(post)
            except HayonError as exc:
                self.message_user(request, f"Post {post.pk}: {exc.message}", messages.WARNING)
                continue
            logger.info(
                "post cancelled from admin post=%s by=%s deliveries=%s",
                post.pk,
                request.user.pk,
                summary.changed,
            )
            self.message_user(
                request,
                f"Post {post.pk}: cancelled {len(summary.changed)} delivery(ies).",
                messages.SUCCESS,
            )


class NeedsPersonFilter(admin.SimpleListFilter):
    title = "needs a person"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", "Parked or unconfirmed")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=NEEDS_A_PERSON)
        return queryset


class MarkPublishedForm(forms.Form):
    """One URL (and optionally the platform's id) per selected delivery."""

    def __init__(self, deliveries: list[Delivery], *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.deliveries = deliveries
        for delivery in deliveries:
            self.fields[f"url_{delivery.pk}"] = forms.URLField(
                label=f"Live URL of delivery {delivery.pk} ({delivery.account})",
                max_length=500,
                assume_scheme="https",
            )
            self.fields[f"remote_id_{delivery.pk}"] = forms.CharField(
                label=f"Platform id of delivery {delivery.pk} (optional)",
                max_length=255,
                required=False,
            )

    def rows(self):
        for delivery in self.deliveries:
            yield delivery, self[f"url_{delivery.pk}"], self[f"remote_id_{delivery.pk}"]


class MarkFailedForm(forms.Form):
    reason = forms.CharField(
        label="Reason the owner will read",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: 'Not on the platform after checking; post it again if needed.'",
    )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "post_link",
        "account",
        "status",
        "attempt_count",
        "short_error",
        "updated_at",
    ]
    list_filter = [NeedsPersonFilter, "status", "platform"]
    search_fields = ["post__text", "account__handle", "remote_id", "error_message"]
    list_select_related = ["account", "post"]
    fields = [
        "post",
        "account",
        "platform",
        "status",
        "text",
        "attempt_count",
        "retry_base",
        "next_attempt_at",
        "enqueued_at",
        "idempotency_key",
        "platform_state",
        "needs_reconcile",
        "remote_id",
        "remote_url",
        "error_code",
        "error_message",
        "version",
        "published_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["replay", "mark_published", "mark_failed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # A delivery is the record of what went out; cancel or resolve it instead.
        return False

    def get_urls(self):
        parking_lot = path(
            "parking-lot/",
            self.admin_site.admin_view(self.parking_lot),
            name="posts_delivery_parking_lot",
        )
        return [parking_lot, *super().get_urls()]

    def parking_lot(self, request: HttpRequest) -> HttpResponseRedirect:
        """The deliveries that wait for a person: a bookmarkable address for the on-call."""
        changelist = reverse("admin:posts_delivery_changelist")
        return HttpResponseRedirect(f"{changelist}?attention=yes")

    @admin.display(description="Post", ordering="post")
    def post_link(self, delivery: Delivery) -> str:
        url = reverse("admin:posts_post_change", args=[delivery.post_id])
        return format_html('<a href="{}">{}</a>', url, excerpt(delivery.post.text, 6))

    @admin.display(description="Error")
    def short_error(self, delivery: Delivery) -> str:
        return Truncator(delivery.error_message).chars(80)

    @admin.action(description="Replay (send to the platform again)")
    def replay(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        deliveries = list(queryset.select_related("account"))
        # Parked ones go through the parking lot, so their dead-lettered messages leave it.
        parked = {d.pk for d in deliveries if d.status == DeliveryStatus.PARKED}
        replayed = parking.replay(parked).replayed if parked else []

        for delivery in deliveries:
            if delivery.pk in parked and delivery.pk not in replayed:
                self.message_user(
                    request, f"Delivery {delivery.pk} is no longer parked.", messages.WARNING
                )
                continue
            if delivery.pk not in parked:
                try:
                    services.retry_delivery(delivery)
                except HayonError as exc:
                    self.message_user(request, exc.message, messages.WARNING)
                    continue

            logger.info(
                "delivery replayed from admin post=%s delivery=%s platform=%s by=%s",
                delivery.post_id,
                delivery.pk,
                delivery.platform,
                request.user.pk,
            )
            self.message_user(
                request,
                f"Delivery {delivery.pk} sent again to {delivery.account}.",
                messages.SUCCESS,
            )

    @admin.action(description="Resolve by hand: mark published (asks for the URL)")
    def mark_published(self, request: HttpRequest, queryset: QuerySet[Delivery]):
        deliveries = list(queryset.select_related("account", "post"))
        form = MarkPublishedForm(deliveries, request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            for delivery in deliveries:
                url = form.cleaned_data[f"url_{delivery.pk}"]
                remote_id = form.cleaned_data[f"remote_id_{delivery.pk}"]
                self._resolve(
                    request,
                    delivery,
                    lambda d, url=url, rid=remote_id: resolution.mark_published(
                        d, url, remote_id=rid, by=request.user.get_username()
                    ),
                    "marked published",
                )
            return None

        return self._intermediate(
            request, deliveries, form, "mark_published", "admin/posts/delivery/mark_published.html"
        )

    @admin.action(description="Resolve by hand: mark failed")
    def mark_failed(self, request: HttpRequest, queryset: QuerySet[Delivery]):
        deliveries = list(queryset.select_related("account", "post"))
        form = MarkFailedForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            reason = form.cleaned_data["reason"]
            for delivery in deliveries:
                self._resolve(
                    request,
                    delivery,
                    lambda d: resolution.mark_failed(d, reason, by=request.user.get_username()),
                    "marked failed",
                )
            return None

        return self._intermediate(
            request, deliveries, form, "mark_failed", "admin/posts/delivery/mark_failed.html"
        )

    def _resolve(self, request: HttpRequest, delivery: Delivery, action, done: str) -> None:
        try:
            action(delivery)
        except HayonError as exc:
            self.message_user(request, exc.message, messages.WARNING)
        else:
            self.message_user(request, f"Delivery {delivery.pk} {done}.", messages.SUCCESS)

    def _intermediate(self, request, deliveries, form, action: str, template: str):
        context = {
            **self.admin_site.each_context(request),
            "title": "Resolve by hand",
            "opts": self.model._meta,
            "deliveries": deliveries,
            "form": form,
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, template, context)

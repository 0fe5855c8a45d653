"""REST endpoints for posts and deliveries: thin views over posts/services.py and editing.py.

Every queryset starts from the caller's own posts, so another user's id answers 404 like an id
that does not exist.
"""

from datetime import UTC, datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_naive
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from hayon.api_errors import ErrorSerializer
from hayon.errors import HayonError
from posts import editing, parking, services
from posts.dates import user_zone, with_when, within_days
from posts.models import Delivery, Post, PostMedia, PostStatus
from posts.schedule import localize, zone
from posts.serializers import (
    MAX_ID,
    ChangeSummarySerializer,
    DeliveryDetailSerializer,
    PostInputSerializer,
    PostSerializer,
    PostStatusSerializer,
    PostUpdateSerializer,
    PublishSerializer,
    RescheduleSerializer,
    ValidationReportSerializer,
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "maxLength": Post._meta.get_field("idempotency_key").max_length},
    OpenApiParameter.HEADER,
    description=(
        "Any unique string per intended post, up to 255 characters. Sending the same key "
        "with the same body again returns the post made the first time (200) instead of "
        "making a second one; with a different body it is refused (409)."
    ),
)
KEY_REUSED = OpenApiResponse(
    ErrorSerializer,
    description="`idempotency_key_reused`: the key made a post from a different body.",
)
INSTANTS = ("scheduled_after", "scheduled_before", "created_after", "created_before")


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class InstantField(IsoDateTimeField):
    """An ISO 8601 date-time, read as the UTC instant it names; one without an offset stays
    naive, for PostFilter to read in the list's zone.

    PostgreSQL refuses UTC offsets beyond ±15:59, which ISO 8601 allows, so the filter
    value is converted before it reaches a query.
    """

    def to_python(self, value) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None

        written = parse_datetime(str(value).strip())
        if written is None or written.tzinfo is None:
            # The parent read it in the server's zone; take back the wall time as written.
            return make_naive(parsed)
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from exc


class InstantFilter(django_filters.IsoDateTimeFilter):
    field_class = InstantField


class PostFilterForm(forms.Form):
    """Check the calendar-day filters together: a known zone, and the days in order."""

    def clean(self) -> dict:
        data = super().clean()
        if data.get("timezone"):
            try:
                zone(data["timezone"])
            except HayonError as exc:
                self.add_error("timezone", ValidationError(exc.message, code=exc.code))

        first, last = data.get("date_from"), data.get("date_to")
        if first and last and last < first:
            message = f"date_to {last} is before date_from {first}."
            self.add_error("date_to", ValidationError(message, code="date_order"))
        return data


def unchanged(queryset, name, value):
    """Leave the queryset alone: PostFilter.filter_queryset applies the day filters at once."""
    return queryset


class PostFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=PostStatus.choices, help_text="Only posts in these statuses (repeatable)."
    )
    account = IdFilter(
        field_name="deliveries__account",
        distinct=True,
        min_value=1,
        max_value=MAX_ID,
        help_text="Only posts to this account id.",
    )
    scheduled_after = InstantFilter(
        field_name="scheduled_at", lookup_expr="gte", help_text="Scheduled at or after (ISO 8601)."
    )
    scheduled_before = InstantFilter(
        field_name="scheduled_at", lookup_expr="lt", help_text="Scheduled before (ISO 8601)."
    )
    created_after = InstantFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after (ISO 8601)."
    )
    created_before = InstantFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before (ISO 8601)."
    )

    date_from = django_filters.DateFilter(
        method=unchanged,
        help_text="Only posts going (or gone) out on or after this calendar day (YYYY-MM-DD) "
        "in `timezone`. A post's day is that of its scheduled time, or of its creation for "
        "'post now'.",
    )
    date_to = django_filters.DateFilter(
        method=unchanged,
        help_text="Only posts going (or gone) out on or before this calendar day, inclusive.",
    )
    timezone = django_filters.CharFilter(
        method=unchanged,
        help_text="IANA zone in which date_from and date_to, and the *_after and *_before "
        "times written without an offset, are read, e.g. 'Europe/Berlin'. Defaults to the "
        "zone the browser reported (session clients), else UTC.",
    )

    class Meta:
        model = Post
        fields = ["status", "account"]
        form = PostFilterForm

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        tz = zone(data["timezone"]) if data.get("timezone") else user_zone(self.request)
        # A time without an offset is read in the same zone as the calendar days.
        for name in INSTANTS:
            if data.get(name) and is_naive(data[name]):
                data[name] = localize(data[name], tz)[0].astimezone(UTC)

        queryset = super().filter_queryset(queryset)
        if not (data.get("date_from") or data.get("date_to")):
            return queryset
        return within_days(with_when(queryset), data.get("date_from"), data.get("date_to"), tz)


class PostViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's posts: compose, follow, edit before they start, cancel, reschedule."""

    serializer_class = PostSerializer
    filterset_class = PostFilter
    queryset = Post.objects.none()

    def get_queryset(self):
        return (
            Post.objects.owned_by(self.request.user)
            .prefetch_related(
                # One query each: the serializer reads every delivery's account handle and
                # every image; the credentials are decrypted on load and never shown.
                Prefetch(
                    "deliveries",
                    Delivery.objects.select_related("account").defer("account__credentials"),
                ),
                Prefetch("post_media", PostMedia.objects.select_related("media")),
            )
            .order_by("-created_at", "-id")
        )

    @extend_schema(
        request=PostInputSerializer,
        responses={201: PostSerializer, 200: PostSerializer, 409: KEY_REUSED},
        parameters=[IDEMPOTENCY_KEY],
        description="Create a post (201), or return the one made with the same Idempotency-Key "
        "and body (200). Nothing is created when anything is wrong: 400 lists every problem.",
    )
    def create(self, request: Request) -> Response:
        body = PostInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "")

        post, created = services.create_post(request.user, body.to_input(), idempotency_key=key)

        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(self._fresh(post), status=code)

    @extend_schema(
        request=PostUpdateSerializer,
        responses=PostSerializer,
        description="Change a draft, or a post none of whose deliveries has started: text, "
        "per-account text, images and options (accounts on drafts only). 409 once publishing "
        "has started.",
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        post = self.get_object()
        body = PostUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        post = editing.update_post(post, body.to_change())

        return Response(self._fresh(post))

    @extend_schema(description="Delete a draft and its images. Other posts answer 409.")
    def destroy(self, request: Request, pk: str) -> Response:
        editing.delete_draft(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=PostInputSerializer,
        responses=ValidationReportSerializer,
        description="Check a post without creating anything: every problem at once, and what "
        "each platform measured.",
    )
    @action(detail=False, methods=["post"])
    def validate(self, request: Request) -> Response:
        body = PostInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        checked = services.check_post(request.user, body.to_input())

        return Response(
            {
                "ok": not checked.problems,
                "scheduled_at": checked.schedule.at,
                "schedule_note": checked.schedule.note,
                "accounts": [report.as_dict() for report in checked.reports],
                "problems": checked.problems,
            }
        )

    @extend_schema(responses=PostStatusSerializer)
    @action(detail=True, methods=["get"])
    def status(self, request: Request, pk: str) -> Response:
        return Response(PostStatusSerializer(self.get_object()).data)

    @extend_schema(
        request=None,
        responses=ChangeSummarySerializer,
        description="Cancel every delivery that has not started; 409 if none is left.",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        post = self.get_object()
        summary = services.cancel_post(post)
        return Response({**summary.as_dict(), "post": self._fresh(post)})

    @extend_schema(
        request=RescheduleSerializer,
        responses=ChangeSummarySerializer,
        description="Move every waiting delivery to a new time; started ones carry on.",
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: str) -> Response:
        post = self.get_object()
        body = RescheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        summary = services.reschedule_post(
            post, body.validated_data["scheduled_at"], body.validated_data.get("timezone")
        )
        return Response({**summary.as_dict(), "post": self._fresh(post)})

    @extend_schema(
        request=PublishSerializer,
        responses=PostSerializer,
        description="Send a draft: now, or at `scheduled_at`. 409 if the post is not a draft.",
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        post = self.get_object()
        body = PublishSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        post = editing.publish_draft(
            post,
            body.validated_data.get("scheduled_at") or None,
            body.validated_data.get("timezone") or None,
        )
        return Response(self._fresh(post))

    @extend_schema(
        request=None,
        responses={201: PostSerializer},
        description="Copy the post (text, accounts, per-account text, images) as a new draft.",
    )
    @action(detail=True, methods=["post"])
    def duplicate(self, request: Request, pk: str) -> Response:
        post = editing.duplicate_post(self.get_object())
        return Response(self._fresh(post), status=status.HTTP_201_CREATED)

    def _fresh(self, post: Post) -> dict:
        return PostSerializer(self.get_queryset().get(pk=post.pk)).data


class DeliveryViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deliveries of one post: /api/posts/{post_id}/deliveries/{id}/."""

    serializer_class = DeliveryDetailSerializer
    queryset = Delivery.objects.none()

    def get_queryset(self):
        post = get_object_or_404(
            Post.objects.owned_by(self.request.user), pk=self.kwargs["post_pk"]
        )
        return Delivery.objects.filter(post=post).select_related("account")

    @extend_schema(
        request=None,
        description="Send a failed, parked or unconfirmed delivery again; its siblings are "
        "left alone. 409 for any other status.",
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, post_pk: str, pk: str) -> Response:
        delivery = parking.retry(self.get_object())
        return Response(DeliveryDetailSerializer(delivery).data)

    @extend_schema(
        request=None, description="Cancel this delivery if it has not started; 409 otherwise."
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, post_pk: str, pk: str) -> Response:
        delivery = services.cancel_delivery(self.get_object())
        return Response(DeliveryDetailSerializer(delivery).data)

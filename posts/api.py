"""REST endpoints for posts and deliveries: thin views over posts/services.py."""

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from posts import services
from posts.models import Delivery, Post, PostStatus
from posts.serializers import (
    DeliveryDetailSerializer,
    PostInputSerializer,
    PostSerializer,
    PostStatusSerializer,
    RescheduleSerializer,
)


class PostFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=PostStatus.choices)
    account = django_filters.NumberFilter(field_name="deliveries__account", distinct=True)
    scheduled_after = django_filters.IsoDateTimeFilter(
        field_name="scheduled_at", lookup_expr="gte"
    )
    scheduled_before = django_filters.IsoDateTimeFilter(
        field_name="scheduled_at", lookup_expr="lt"
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Post
        fields = ["status", "account"]


class PostViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = PostSerializer
    filterset_class = PostFilter

    def get_queryset(self):
        return (
            Post.objects.owned_by(self.request.user)
            .prefetch_related("deliveries__account", "post_media__media")
            .order_by("-created_at")
        )

    @extend_schema(request=PostInputSerializer, responses={201: PostSerializer})
    def create(self, request: Request) -> Response:
        body = PostInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "")[:255]

        post, created = services.create_post(request.user, body.to_input(), idempotency_key=key)

        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(PostSerializer(self.get_queryset().get(pk=post.pk)).data, status=code)

    @extend_schema(request=PostInputSerializer)
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

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        post = self.get_object()
        summary = services.cancel_post(post)
        return Response({**summary.as_dict(), "post": self._fresh(post)})

    @extend_schema(request=RescheduleSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request: Request, pk: str) -> Response:
        post = self.get_object()
        body = RescheduleSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        summary = services.reschedule_post(
            post, body.validated_data["scheduled_at"], body.validated_data.get("timezone")
        )
        return Response({**summary.as_dict(), "post": self._fresh(post)})

    def _fresh(self, post: Post) -> dict:
        return PostSerializer(self.get_queryset().get(pk=post.pk)).data


class DeliveryViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deliveries of one post: /api/posts/{post_id}/deliveries/{id}/."""

    serializer_class = DeliveryDetailSerializer

    def get_queryset(self):
        post = get_object_or_404(
            Post.objects.owned_by(self.request.user), pk=self.kwargs["post_pk"]
        )
        return Delivery.objects.filter(post=post).select_related("account")

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, post_pk: str, pk: str) -> Response:
        delivery = services.retry_delivery(self.get_object())
        return Response(DeliveryDetailSerializer(delivery).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, post_pk: str, pk: str) -> Response:
        delivery = services.cancel_delivery(self.get_object())
        return Response(DeliveryDetailSerializer(delivery).data)

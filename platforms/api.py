"""REST endpoints for connected accounts."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from platforms import services
from platforms.models import Account, AccountHealth
from platforms.serializers import AccountSerializer, BlueskyConnectSerializer


class AccountViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AccountSerializer
    pagination_class = None

    def get_queryset(self):
        return Account.objects.owned_by(self.request.user).exclude(health=AccountHealth.REVOKED)

    def perform_destroy(self, instance: Account) -> None:
        services.disconnect_account(instance)

    @extend_schema(request=BlueskyConnectSerializer, responses={201: AccountSerializer})
    @action(detail=False, methods=["post"])
    def bluesky(self, request: Request) -> Response:
        body = BlueskyConnectSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        account, created = services.connect_bluesky(
            request.user,
            body.validated_data["handle"],
            body.validated_data["app_password"],
            body.validated_data.get("service_url"),
        )

        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(AccountSerializer(account).data, status=code)

    @extend_schema(request=None, responses=AccountSerializer)
    @action(detail=True, methods=["post"])
    def check(self, request: Request, pk: str) -> Response:
        return Response(AccountSerializer(services.check_account(self.get_object())).data)

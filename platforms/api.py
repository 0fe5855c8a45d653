"""REST endpoints for connected accounts: list, read, disconnect, re-check, connect.

Every queryset starts from the caller's own accounts, so another user's id answers 404.
"""

from importlib import import_module

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hayon.serializers import strict
from platforms import services
from platforms.models import Account, AccountHealth, Platform
from platforms.serializers import AccountSerializer


class AccountViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The caller's connected accounts (disconnected ones are gone from the list)."""

    serializer_class = AccountSerializer
    pagination_class = None
    queryset = Account.objects.none()

    def get_queryset(self):
        return Account.objects.owned_by(self.request.user).exclude(health=AccountHealth.REVOKED)

    @extend_schema(
        description="Disconnect the account and forget its credentials. 409 while deliveries "
        "to it still wait; accounts with published history are kept as `revoked`."
    )
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance: Account) -> None:
        services.disconnect_account(instance)

    @extend_schema(
        request=None,
        responses=AccountSerializer,
        description="Ask the platform whether the credentials still work; health says the answer.",
    )
    @action(detail=True, methods=["post"])
    def check(self, request: Request, pk: str) -> Response:
        return Response(AccountSerializer(services.check_account(self.get_object())).data)


def connect_view(platform: str) -> type[APIView] | None:
    """Return the view of POST /api/accounts/<platform>/, or None if it has no connect module.

    Each platform package may hold `connect.py` with a `ConnectSerializer` and a
    `connect(owner, data) -> fields` that verifies the credentials with the platform.
    """
    try:
        module = import_module(f"platforms.{platform}.connect")
    except ModuleNotFoundError:
        return None

    # Every platform names its body ConnectSerializer; give each its own schema component.
    body_class = extend_schema_serializer(component_name=f"{platform.title()}Connect")(
        strict(module.ConnectSerializer)
    )

    class ConnectView(APIView):
        serializer_class = body_class

        @extend_schema(
            request=body_class,
            responses={201: AccountSerializer, 200: AccountSerializer},
            summary=f"Connect a {Platform(platform).label} account",
            description="Verify the credentials with the platform and store the account "
            "(201), or update the one already connected with the same remote id (200). "
            "A refusal from the platform answers 400 with code `connect_failed`.",
            operation_id=f"accounts_connect_{platform}",
        )
        def post(self, request: Request) -> Response:
            body = self.serializer_class(data=request.data)
            body.is_valid(raise_exception=True)

            account, created = services.connect_account(
                request.user, platform, body.validated_data
            )

            code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
            return Response(AccountSerializer(account).data, status=code)

    ConnectView.__name__ = f"{platform.title()}ConnectView"
    return ConnectView


@extend_schema(exclude=True)
class UnknownPlatformView(APIView):
    """POST /api/accounts/<name>/ for a name that is no platform: 404 `unknown_platform`.

    Without it the accounts router reads the name as an account id and answers 405.
    """

    def post(self, request: Request, platform: str) -> Response:
        known = ", ".join(Platform.values)
        raise NotFound(f"No platform {platform!r}; Hayon connects: {known}.", "unknown_platform")

    def http_method_not_allowed(self, request: Request, *args, **kwargs) -> Response:
        # Any other method on a name that is not an id is just a missing account.
        raise NotFound("No such endpoint or object.", "not_found")


def connect_urls() -> list:
    from django.urls import path, re_path

    views = ((p, connect_view(p)) for p in Platform.values)
    return [
        *(
            path(f"api/accounts/{p}/", view.as_view(), name=f"account-connect-{p}")
            for p, view in views
            if view is not None
        ),
        # Names with a non-digit only: /api/accounts/12/ stays the router's account 12.
        re_path(
            r"^api/accounts/(?P<platform>[^/]*[^/0-9][^/]*)/$",
            UnknownPlatformView.as_view(),
            name="account-connect-unknown",
        ),
    ]

"""/api/tokens/: list, create and revoke named API tokens."""

import logging

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from hayon.parsers import JSONParser
from hayon.serializers import strict
from hayon.throttles import LoginThrottle
from hayon.tokens.models import ApiToken
from hayon.tokens.serializers import (
    ApiTokenInputSerializer,
    ApiTokenSerializer,
    LegacyTokenSerializer,
    NewApiTokenSerializer,
    PasswordExchangeSerializer,
)

logger = logging.getLogger(__name__)


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Named tokens of the signed-in user. Deleting one revokes it at once."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()
    pagination_class = None

    def get_queryset(self):
        return ApiToken.objects.owned_by(self.request.user)

    @extend_schema(
        request=ApiTokenInputSerializer,
        responses={201: NewApiTokenSerializer},
        description="Create a named token. The answer holds the key, which is never shown again.",
    )
    def create(self, request: Request) -> Response:
        body = ApiTokenInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        token, key = ApiToken.issue(
            request.user, body.validated_data["name"], body.validated_data.get("expires_at")
        )
        logger.info("api token created token=%s user=%s", token.pk, request.user.pk)

        token.key = key
        data = NewApiTokenSerializer(token, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(description="Revoke the token: requests made with it fail from now on.")
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance: ApiToken) -> None:
        logger.info("api token revoked token=%s user=%s", instance.pk, instance.user_id)
        instance.delete()


class ObtainTokenView(ObtainAuthToken):
    """POST /api/auth/token/ {username, password} -> {"token": key}: the user's single legacy
    key, as DRF's authtoken has always issued it, now limited per client address."""

    authentication_classes = ()
    throttle_classes = (LoginThrottle,)
    # Form data too, for `curl -d username=... -d password=...`.
    parser_classes = (JSONParser, FormParser, MultiPartParser)
    # DRF's own body, refusing fields it does not take like every other endpoint.
    serializer_class = strict(AuthTokenSerializer)

    @extend_schema(
        request=PasswordExchangeSerializer,
        responses=LegacyTokenSerializer,
        description="Exchange a username and password for the user's key (the same key each "
        "time). For a key per client that can be revoked alone, use /api/tokens/.",
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)

"""REST endpoints for uploads: sign one, look at one, delete an unused one."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from media import services
from media.models import Media
from media.serializers import MediaSerializer, UploadRequestSerializer, UploadTargetSerializer


class UploadView(APIView):
    """Sign an image upload: the client then sends the raw bytes to `upload_url` with `method`
    and exactly `headers`, within 15 minutes. Refused: types other than JPEG, PNG, GIF and
    WebP, and sizes over the upload limit. With `accounts`, also a type or size that none of
    those accounts' platforms takes (400 `media_type_refused` or `media_too_large`, one
    problem per account with its `limit` and the `measured` size); an id that is not one of
    the caller's accounts gives 400 `account_not_found`. Use `media_id` in a post's
    `media`."""

    @extend_schema(
        request=UploadRequestSerializer,
        responses={201: UploadTargetSerializer},
        operation_id="media_upload",
        tags=["media"],
    )
    def post(self, request: Request) -> Response:
        body = UploadRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)

        media, target = services.start_upload(request.user, **body.validated_data)

        answer = {
            "media_id": media.pk,
            "upload_url": target.url,
            "method": target.method,
            "headers": target.headers,
            "expires_at": target.expires_at,
        }
        return Response(UploadTargetSerializer(answer).data, status=status.HTTP_201_CREATED)


class MediaDetailView(APIView):
    """One of the caller's uploads. It can be deleted while no post uses it."""

    def get_object(self, request: Request, pk: int) -> Media:
        return get_object_or_404(Media.objects.owned_by(request.user), pk=pk)

    @extend_schema(responses=MediaSerializer, operation_id="media_retrieve", tags=["media"])
    def get(self, request: Request, pk: int) -> Response:
        return Response(MediaSerializer(self.get_object(request, pk)).data)

    @extend_schema(responses={204: None}, operation_id="media_destroy", tags=["media"])
    def delete(self, request: Request, pk: int) -> Response:
        services.delete_unused(self.get_object(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

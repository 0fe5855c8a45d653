"""The bare endpoint: the same server, middleware, token auth and JSON parsing as the API,
then one row inserted and nothing else. What `POST /api/posts/` costs beyond it is Hayon's."""

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from posts.models import Post


class BareInsertView(APIView):
    def post(self, request: Request) -> Response:
        post = Post.objects.create(owner=request.user, text=str(request.data.get("text", "")))
        return Response({"id": post.pk}, status=status.HTTP_201_CREATED)

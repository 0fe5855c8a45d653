"""URLs of the media app: the API under /api/posts/media/, the local backend's files."""

from django.urls import path

from media.api import MediaDetailView, UploadView
from media.views import local_file, local_upload

api_urls = [
    path("upload/", UploadView.as_view(), name="media-upload"),
    path("<int:pk>/", MediaDetailView.as_view(), name="media-detail"),
]

file_urls = [
    path("upload/<str:token>/", local_upload, name="media-local-upload"),
    path("files/<str:token>/", local_file, name="media-local-file"),
]

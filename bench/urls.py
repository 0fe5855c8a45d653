"""Hayon's URLs plus `POST /bench/bare/`: the stack's ceiling for the API benchmark."""

from django.urls import path

from bench.views import BareInsertView
from hayon.urls import urlpatterns as hayon_urlpatterns

urlpatterns = [
    path("bench/bare/", BareInsertView.as_view(), name="bench-bare"),
    *hayon_urlpatterns,
]

"""The pages for posts, mounted at the site root (see hayon/urls.py)."""

from django.urls import path

from posts import views

app_name = "posts"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("posts/", views.post_list, name="list"),
    path("posts/calendar/", views.post_calendar, name="calendar"),
    path("posts/new/", views.compose, name="compose"),
    path("posts/<int:pk>/", views.post_detail, name="detail"),
]

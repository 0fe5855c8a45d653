"""Platform names, importable before Django's apps are ready (the Celery topology needs them)."""

from django.db import models


class Platform(models.TextChoices):
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    INSTAGRAM = "instagram", "Instagram"
    THREADS = "threads", "Threads"
    FACEBOOK = "facebook", "Facebook Page"
    TUMBLR = "tumblr", "Tumblr"

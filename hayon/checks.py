"""Refuse to start in production with settings that would be unsafe on the internet."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured


def check_production_settings(settings: dict[str, Any]) -> None:
    """Raise ImproperlyConfigured when HAYON_ENV=production meets a development-only value."""
    if settings["HAYON_ENV"] != "production":
        return

    problems = []
    if settings["DEBUG"]:
        problems.append("DEBUG must be off")
    if (
        settings["SECRET_KEY"] == settings["DEFAULT_SECRET_KEY"]
        or len(settings["SECRET_KEY"]) < 32
    ):
        problems.append("SECRET_KEY must be set to a random value of 32 characters or more")
    if not settings["HAYON_CREDENTIALS_KEYS"]:
        problems.append("HAYON_CREDENTIALS_KEYS must hold at least one Fernet key")
    if settings["CELERY_BROKER_URL"].startswith("filesystem"):
        problems.append("CELERY_BROKER_URL must point at RabbitMQ")
    if "*" in settings["ALLOWED_HOSTS"]:
        problems.append("ALLOWED_HOSTS must name the site's hosts, not '*'")
    if settings.get("HAYON_FETCH_ALLOW_PRIVATE"):
        # It lets anyone who can post a link or connect an account reach the private network.
        problems.append("HAYON_FETCH_ALLOW_PRIVATE must be off")

    if problems:
        raise ImproperlyConfigured(
            "Refusing to start with HAYON_ENV=production: " + "; ".join(problems) + "."
        )

"""Refuse to start with settings that would be unsafe on the internet, or a database too old
for the statements Hayon relies on."""

import sqlite3
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


# UPDATE ... RETURNING, with which deliveries are claimed (posts/dispatch.py, publishing.py).
SQLITE_RETURNING = (3, 35, 0)


def check_sqlite_version(settings: dict[str, Any], version: tuple[int, ...] | None = None) -> None:
    """Raise ImproperlyConfigured when the database is SQLite older than 3.35."""
    if not settings["DATABASES"]["default"]["ENGINE"].endswith("sqlite3"):
        return

    version = version or sqlite3.sqlite_version_info
    if version < SQLITE_RETURNING:
        found = ".".join(map(str, version))
        raise ImproperlyConfigured(
            f"SQLite {found} is too old: Hayon needs 3.35 or newer (UPDATE ... RETURNING). "
            "Use a Python built with a newer SQLite, or PostgreSQL through DATABASE_URL."
        )

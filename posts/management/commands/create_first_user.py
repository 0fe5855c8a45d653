"""Create the first user on a new installation so a newcomer can sign in."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create an administrator when there are no users yet; print how to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")
        parser.add_argument(
            "--password", help="Defaults to $HAYON_ADMIN_PASSWORD, else a random one."
        )

    def handle(self, *args, username: str, email: str, password: str | None, **options):
        users = get_user_model().objects
        if users.exists():
            self.stdout.write("Users exist already; nothing to do.")
            return

        password = password or os.environ.get("HAYON_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        users.create_superuser(username, email, password)
        self.stdout.write(
            self.style.SUCCESS(f"Created the first user: {username} / {password}\n")
            + "Sign in at /admin/ or get an API token with POST /api/auth/token/. "
            "Change the password once signed in."
        )

"""Apply the bucket's CORS rule for the app's origins and the 1-day expiry on temp/."""

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from media.bucket import apply_rules, create_bucket
from media.models import MediaBackend
from media.storage import S3Backend, get_backend


class Command(BaseCommand):
    help = (
        "Configure HAYON_S3_BUCKET for browser uploads: a CORS rule for the app's origins "
        "(HAYON_MEDIA_CORS_ORIGINS) and a lifecycle rule expiring temp/ after a day."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--origin",
            action="append",
            dest="origins",
            help="An origin allowed to upload (repeatable); default HAYON_MEDIA_CORS_ORIGINS.",
        )
        parser.add_argument(
            "--temp-days", type=int, default=1, help="Days before temp/ uploads expire."
        )
        parser.add_argument(
            "--create", action="store_true", help="Create the bucket first if it is missing."
        )

    def handle(self, *args, origins=None, temp_days=1, create=False, **options):
        if not settings.HAYON_S3_BUCKET:
            raise CommandError(
                "HAYON_S3_BUCKET is not set: the local media backend needs no rules"
            )
        origins = origins or settings.HAYON_MEDIA_CORS_ORIGINS
        backend = get_backend(MediaBackend.S3)
        assert isinstance(backend, S3Backend)

        try:
            if create and create_bucket(backend, settings.HAYON_S3_REGION):
                self.stdout.write(f"created bucket {backend.bucket}")
            apply_rules(backend, origins, temp_days)
        except (BotoCoreError, ClientError) as exc:
            raise CommandError(f"could not configure bucket {backend.bucket}: {exc}") from exc

        self.stdout.write(
            f"bucket {backend.bucket}: uploads allowed from {', '.join(origins)}; "
            f"temp/ expires after {temp_days} day(s)"
        )

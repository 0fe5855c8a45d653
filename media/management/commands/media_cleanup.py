"""Remove abandoned uploads and objects left under posts/ by posts that were never created."""

from django.conf import settings
from django.core.management.base import BaseCommand

from media.cleanup import clean_up
from media.models import MediaBackend


class Command(BaseCommand):
    help = (
        "Delete media rows signed over a day ago and never used (with their objects), and "
        "objects under posts/ that no media row names (copies from rolled-back posts)."
    )

    def handle(self, *args, **options):
        backends = [MediaBackend.LOCAL]
        if settings.HAYON_S3_BUCKET:
            backends.append(MediaBackend.S3)

        report = clean_up(backends)

        self.stdout.write(
            f"removed {report.abandoned_rows} abandoned uploads and "
            f"{report.orphaned_objects} orphaned objects"
        )

"""Replay parked deliveries from the parking-lot queue."""

from django.core.management.base import BaseCommand

from posts import parking


class Command(BaseCommand):
    help = (
        "Send parked deliveries again with a fresh retry budget, taking their messages out of "
        "the posts.parking_lot queue. With --list, only show what is parked."
    )

    def add_arguments(self, parser):
        parser.add_argument("delivery_ids", nargs="*", type=int, help="Only these deliveries.")
        parser.add_argument("--list", action="store_true", help="Show the parking lot only.")

    def handle(self, *args, delivery_ids: list[int], list: bool, **options):
        if list:
            for message in parking.inspect():
                self.stdout.write(
                    f"delivery={message.delivery_id} platform={message.platform} "
                    f"version={message.version} reason={message.reason}"
                )
            return

        report = parking.replay(set(delivery_ids) if delivery_ids else None)
        self.stdout.write(
            f"replayed {len(report.replayed)} {report.replayed}, "
            f"dropped {len(report.dropped)} stale, kept {report.kept}"
        )

"""Replay parked deliveries from the parking-lot queue."""

from django.core.management.base import BaseCommand

from posts import parking


def ids(values: list) -> str:
    return ", ".join(str(value) for value in values)


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


class Command(BaseCommand):
    help = (
        "Send parked deliveries again with a fresh retry budget, taking their messages out of "
        "the posts.parking_lot queue; a parked delivery whose message is gone is sent from the "
        "database. With --list, only show what is parked."
    )

    def add_arguments(self, parser):
        parser.add_argument("delivery_ids", nargs="*", type=int, help="Only these deliveries.")
        parser.add_argument("--list", action="store_true", help="Show the parking lot only.")

    def handle(self, *args, delivery_ids: list[int], list: bool, **options):
        if list:
            self.show()
            return

        report = parking.replay(set(delivery_ids) if delivery_ids else None)
        self.report(report)

    def show(self) -> None:
        messages = parking.inspect()
        for message in messages:
            self.stdout.write(
                f"delivery={message.delivery_id} platform={message.platform} "
                f"version={message.version} reason={message.reason}"
            )
        without = parking.parked_without_message({m.delivery_id for m in messages})
        for delivery_id in without:
            self.stdout.write(f"delivery={delivery_id} parked, no message in the parking lot")
        if not messages and not without:
            self.stdout.write("The parking lot is empty.")

    def report(self, report: parking.ReplayReport) -> None:
        if not (report.replayed or report.dropped or report.kept):
            self.stdout.write("Nothing to replay: no delivery is parked.")
            return

        if report.replayed:
            replayed = plural(len(report.replayed), "parked delivery", "parked deliveries")
            self.stdout.write(f"Replayed {replayed}: {ids(report.replayed)}.")
        if report.from_database:
            self.stdout.write(
                "Sent from the database, their message was not in the parking lot: "
                f"{ids(report.from_database)}."
            )
        if report.dropped:
            dropped = plural(len(report.dropped), "stale message", "stale messages")
            self.stdout.write(
                f"Dropped {dropped} of deliveries no longer parked: {ids(report.dropped)}."
            )
        if report.kept:
            kept = plural(report.kept, "message", "messages")
            self.stdout.write(f"Kept {kept} of other deliveries in the parking lot.")

"""Re-encrypt every account's credentials with the first key of HAYON_CREDENTIALS_KEYS.

Rotation (docs/operations.md): put the new key first, keep the old ones after it, restart
every process, run this command, then drop the old keys. Tokens are rewritten with a
compare-and-set on the stored ciphertext, so a worker that refreshes an account's token in the
meantime (already with the new key) is never overwritten with older credentials.
"""

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from platforms.crypto import rotate_token
from platforms.models import Account


class Command(BaseCommand):
    help = "Re-encrypt all account credentials with the first key of HAYON_CREDENTIALS_KEYS."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would change, write nothing"
        )

    def handle(self, *args, dry_run: bool = False, **options) -> None:
        if not settings.HAYON_CREDENTIALS_KEYS:
            raise CommandError(
                "HAYON_CREDENTIALS_KEYS is empty: the credentials are encrypted with a key "
                "derived from SECRET_KEY. Set the new key first, then that derived key after it."
            )
        newest = Fernet(settings.HAYON_CREDENTIALS_KEYS[0])

        counts = {"rotated": 0, "current": 0, "changed": 0}
        unreadable = []
        for pk, token in self.stored_tokens():
            if not token or encrypted_with(newest, token):
                counts["current"] += 1
                continue

            try:
                rotated = rotate_token(token)
            except (InvalidToken, ImproperlyConfigured):
                unreadable.append(pk)
                continue

            if dry_run or self.swap(pk, token, rotated):
                counts["rotated"] += 1
            else:
                counts["changed"] += 1

        self.report(counts, dry_run)
        if unreadable:
            raise CommandError(
                f"{len(unreadable)} accounts cannot be decrypted with any key in "
                f"HAYON_CREDENTIALS_KEYS (ids {unreadable[:20]}): was a key removed too early?"
            )

    def stored_tokens(self):
        """Yield (id, ciphertext) as stored: the model field would decrypt them."""
        table, column = self.table_and_column()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id, {column} FROM {table} ORDER BY id")  # noqa: S608
            yield from cursor.fetchall()

    def swap(self, pk: int, old: str, new: str) -> bool:
        """Replace the ciphertext only if nobody changed it since we read it."""
        table, column = self.table_and_column()
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {column} = %s WHERE id = %s AND {column} = %s",  # noqa: S608
                [new, pk, old],
            )
            return cursor.rowcount == 1

    def table_and_column(self) -> tuple[str, str]:
        quote = connection.ops.quote_name
        column = Account._meta.get_field("credentials").column
        return quote(Account._meta.db_table), quote(column)

    def report(self, counts: dict[str, int], dry_run: bool) -> None:
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(
            f"{verb} {counts['rotated']} accounts with the first key; "
            f"{counts['current']} already used it; "
            f"{counts['changed']} changed while rotating (already re-encrypted by Hayon)"
        )


def encrypted_with(key: Fernet, token: str) -> bool:
    try:
        key.decrypt(token.encode())
    except InvalidToken:
        return False
    return True

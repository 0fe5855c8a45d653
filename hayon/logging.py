"""Log records as the person on call searches them.

Hayon's log lines carry their ids in the text (`post=12 delivery=34 platform=tumblr
attempt=2`). `IdFields` also lifts them into fields of the record, so with
HAYON_LOG_FORMAT=json every line has `"post": 12, "delivery": 34, ...` that a log store can
filter on, while the message stays readable as text.
"""

import logging
import re

ID_NAMES = ("post", "delivery", "platform", "attempt", "account", "owner", "version")
ID_PATTERN = re.compile(rf"(?<![\w.-])({'|'.join(ID_NAMES)})=([\w.@-]+)")


class IdFields(logging.Filter):
    """Copy `name=value` ids from the message into attributes of the record (never a secret:
    only the names above are taken)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the formatter's to report, not ours
            return True

        for name, value in ID_PATTERN.findall(message):
            if not hasattr(record, name):
                setattr(record, name, int(value) if value.isdigit() else value)
        return True

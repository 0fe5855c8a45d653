"""Record keys for Bluesky posts.

A post's record key is a TID: 53 bits of microseconds since the Unix epoch and 10 bits of
clock id, written in base32-sortable (alphabet `234567a-z`), 13 characters. We choose it
ourselves and store it before the create call, so a retry can ask the PDS whether the record
already exists instead of posting twice.
"""

import secrets
import threading
import time

_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_lock = threading.Lock()
_last_micros = 0


def _encode(value: int) -> str:
    chars = []
    for _ in range(13):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_tid() -> str:
    """Return a fresh TID; strictly increasing within this process."""
    global _last_micros

    with _lock:
        micros = max(time.time_ns() // 1000, _last_micros + 1)
        _last_micros = micros

    clock_id = secrets.randbelow(1024)
    return _encode((micros << 10) | clock_id)


def is_tid(value: str) -> bool:
    return (
        len(value) == 13 and all(c in _ALPHABET for c in value) and value[0] in "234567abcdefghij"
    )

"""Time-ordered, prefixed identifiers (ULIDs): sortable by creation, never enumerable."""

from __future__ import annotations

import re
import secrets
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_lock = threading.Lock()
_last = 0


# Two characters for each 10 bits: a ULID's 130 bits (26 characters) in 13 lookups.
_PAIRS = [high + low for high in _ALPHABET for low in _ALPHABET]
_SHIFTS = range(120, -1, -10)


def new_id(prefix: str) -> str:
    """`prefix_` + a 26-character ULID, strictly increasing within this process."""
    global _last
    with _lock:
        value = (time.time_ns() // 1_000_000) << 80 | secrets.randbits(80)
        _last = value = max(value, _last + 1)
    return f"{prefix}_" + "".join([_PAIRS[value >> shift & 1023] for shift in _SHIFTS])


def is_id(prefix: str, value: str) -> bool:
    return re.fullmatch(rf"{prefix}_[0-9A-HJKMNP-TV-Z]{{26}}", value) is not None

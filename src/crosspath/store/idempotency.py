"""Stored outcomes of POSTs sent with an `Idempotency-Key`, per partner.

The outcome is written in the transaction of the write it describes: a retry finds it, or finds
nothing because nothing was written. On PostgreSQL a transaction-scoped advisory lock on the
key tells a retry that the first request is still running (409) instead of letting it wait.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, insert, select, text
from sqlalchemy.engine import Connection

from crosspath.errors import AppError, Conflict
from crosspath.store.tables import idempotency_keys
from crosspath.timestamps import utcnow

KEEP = timedelta(hours=24)  # at least this long; `crosspath purge` removes older ones
STILL_RUNNING = (
    "A request with this Idempotency-Key is still being processed; retry in a moment to get "
    "its answer."
)
REUSED = (
    "This Idempotency-Key was already used for a different request (another path or body); "
    "use a new key for a new request."
)


class KeyReused(AppError):
    status_code = 422

    def __init__(self) -> None:
        super().__init__(REUSED)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a POST answered: replayed as it is to a retry with the same key."""

    status_code: int
    body: bytes
    location: str | None = None


_FIND = select(
    idempotency_keys.c.fingerprint,
    idempotency_keys.c.status_code,
    idempotency_keys.c.body,
    idempotency_keys.c.location,
).where(
    idempotency_keys.c.partner_id == bindparam("partner_id"),
    idempotency_keys.c.key == bindparam("key"),
)
_LOCK = text("SELECT pg_try_advisory_xact_lock(:lock)")


def claim(conn: Connection, partner_id: str, key: str, fingerprint: str) -> Outcome | None:
    """The stored outcome of this key, or None when the request should run now (in `conn`'s
    transaction, which then records its outcome)."""
    if conn.dialect.name == "postgresql" and not conn.scalar(
        _LOCK, {"lock": _lock_id(partner_id, key)}
    ):
        raise Conflict(STILL_RUNNING)
    row = conn.execute(_FIND, {"partner_id": partner_id, "key": key}).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise KeyReused()
    return Outcome(row.status_code, row.body.encode(), row.location)


def record(conn: Connection, partner_id: str, key: str, fingerprint: str, outcome: Outcome) -> None:
    conn.execute(
        insert(idempotency_keys),
        {
            "partner_id": partner_id,
            "key": key,
            "fingerprint": fingerprint,
            "status_code": outcome.status_code,
            "body": outcome.body.decode(),
            "location": outcome.location,
            "created_at": utcnow(),
        },
    )


def purge(conn: Connection, keep: timedelta = KEEP) -> int:
    """Forget the outcomes older than `keep`; returns how many."""
    older = idempotency_keys.c.created_at < utcnow() - keep
    return conn.execute(delete(idempotency_keys).where(older)).rowcount


def _lock_id(partner_id: str, key: str) -> int:
    digest = hashlib.sha256(f"idempotency:{partner_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)

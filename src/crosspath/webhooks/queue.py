"""The delivery queue's SQL: which endpoints have deliveries due, the lease a worker takes on an
endpoint, and what each try did.

A worker never holds a transaction open while it sends. It claims endpoints (not single
deliveries: an endpoint's events go out one at a time, in order) by setting their
`lease_until` in a short transaction, on PostgreSQL under `SELECT ... FOR UPDATE SKIP LOCKED`
so that concurrent workers claim different endpoints; it then sends outside any transaction,
and records each try in a transaction that also extends the lease for the next one. The lease's
value is the worker's token: every later statement of the worker names it, so a worker whose
lease ran out (stalled, or cut off from the database) can neither extend nor release another's.
A worker killed mid-delivery leaves its lease to expire; the delivery is still pending, and
the next worker that claims the endpoint sends it again (at least once). A released lease is
set to the time of release rather than cleared, so endpoints are claimed least recently served
first and none waits behind endpoints that always have work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, or_, select, tuple_, update
from sqlalchemy.engine import Connection

from crosspath.store.tables import events, webhook_deliveries, webhook_endpoints

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
ROUND_SIZE = 50  # deliveries sent to one endpoint before its lease is given back for others

_e, _d = webhook_endpoints, webhook_deliveries


@dataclass(frozen=True, slots=True)
class Lease:
    """An endpoint a worker has in hand until `until`, with where and how to send to it."""

    partner_id: str
    endpoint_id: str
    url: str
    secret: str
    until: datetime

    @property
    def key(self) -> tuple[str, str]:
        return self.partner_id, self.endpoint_id


@dataclass(frozen=True, slots=True)
class Delivery:
    event_seq: int
    event_id: str
    event_type: str
    attempts: int
    body: str | None  # None: the event was purged before it could be sent


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one try changes on its delivery."""

    status: str
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None


_DUE = exists().where(
    _d.c.partner_id == _e.c.partner_id,
    _d.c.endpoint_id == _e.c.id,
    _d.c.status == PENDING,
    _d.c.next_attempt_at <= bindparam("_now"),
)
_WAITING = (
    select(_e.c.partner_id, _e.c.id, _e.c.url, _e.c.secret)
    .where(
        _e.c.enabled.is_(True),
        or_(_e.c.lease_until.is_(None), _e.c.lease_until <= bindparam("_now")),
        _DUE,
        tuple_(_e.c.partner_id, _e.c.id).not_in(bindparam("_busy", expanding=True)),
    )
    .order_by(_e.c.lease_until.nulls_first())
    .limit(bindparam("_limit"))
)
_CLAIMABLE = _WAITING.with_for_update(of=_e, skip_locked=True)
_LEASE = (
    update(_e)
    .where(_e.c.partner_id == bindparam("_p"), _e.c.id == bindparam("_id"))
    .values(lease_until=bindparam("_until"))
)
_FENCED = and_(
    _e.c.partner_id == bindparam("_p"),
    _e.c.id == bindparam("_id"),
    _e.c.lease_until == bindparam("_mine"),
)
_RENEW = (
    update(_e)
    .where(_FENCED, _e.c.enabled.is_(True))
    .values(lease_until=bindparam("_until"))
    .returning(_e.c.url, _e.c.secret)
)
_RELEASE = update(_e).where(_FENCED).values(lease_until=bindparam("_until"))
_ROUND = (
    select(_d.c.event_seq, _d.c.event_id, _d.c.event_type, _d.c.attempts, events.c.body)
    .select_from(
        _d.outerjoin(
            events, and_(events.c.partner_id == _d.c.partner_id, events.c.seq == _d.c.event_seq)
        )
    )
    .where(
        _d.c.partner_id == bindparam("_p"),
        _d.c.endpoint_id == bindparam("_id"),
        _d.c.status == PENDING,
        _d.c.next_attempt_at <= bindparam("_now"),
    )
    .order_by(_d.c.event_seq)
    .limit(ROUND_SIZE)
)
_RECORD = (
    update(_d)
    .where(
        _d.c.partner_id == bindparam("_p"),
        _d.c.endpoint_id == bindparam("_id"),
        _d.c.event_seq == bindparam("_seq"),
    )
    .values(
        status=bindparam("_status"),
        attempts=_d.c.attempts + 1,
        next_attempt_at=bindparam("_next"),
        last_attempt_at=bindparam("_now"),
        last_status=bindparam("_code"),
        last_error=bindparam("_error"),
    )
)


def anything_due(conn: Connection, now: datetime, busy: Sequence[tuple[str, str]]) -> bool:
    """A cheap look, without locking anything, before `claim` takes the write lock."""
    found = conn.execute(_WAITING, {"_now": now, "_busy": list(busy), "_limit": 1}).first()
    return found is not None


def claim(
    conn: Connection,
    now: datetime,
    lease_seconds: float,
    busy: Sequence[tuple[str, str]],
    limit: int,
) -> list[Lease]:
    """Lease up to `limit` enabled endpoints that have deliveries due and that no worker has in
    hand (nor this one: `busy`). The caller commits right after."""
    rows = conn.execute(_CLAIMABLE, {"_now": now, "_busy": list(busy), "_limit": limit}).all()
    if not rows:
        return []
    until = now + timedelta(seconds=lease_seconds)
    conn.execute(_LEASE, [{"_p": row.partner_id, "_id": row.id, "_until": until} for row in rows])
    return [Lease(row.partner_id, row.id, row.url, row.secret, until) for row in rows]


def due(conn: Connection, lease: Lease, now: datetime) -> list[Delivery]:
    """The endpoint's deliveries due now, oldest event first (at most ROUND_SIZE)."""
    rows = conn.execute(_ROUND, {"_p": lease.partner_id, "_id": lease.endpoint_id, "_now": now})
    return [Delivery(*row) for row in rows]


def record(
    conn: Connection, lease: Lease, delivery: Delivery, outcome: Outcome, now: datetime
) -> None:
    conn.execute(
        _RECORD,
        {
            "_p": lease.partner_id,
            "_id": lease.endpoint_id,
            "_seq": delivery.event_seq,
            "_status": outcome.status,
            "_next": outcome.next_attempt_at,
            "_now": now,
            "_code": outcome.last_status,
            "_error": outcome.last_error,
        },
    )


def renew(conn: Connection, lease: Lease, until: datetime) -> Lease | None:
    """The lease extended to `until`, with the endpoint's URL and secret as they are now; None
    when the lease is no longer this worker's or the endpoint was disabled or deleted."""
    row = conn.execute(_RENEW, _fence(lease) | {"_until": until}).first()
    if row is None:
        return None
    return Lease(lease.partner_id, lease.endpoint_id, row.url, row.secret, until)


def release(conn: Connection, lease: Lease, now: datetime) -> None:
    conn.execute(_RELEASE, _fence(lease) | {"_until": now})


def _fence(lease: Lease) -> dict[str, object]:
    return {"_p": lease.partner_id, "_id": lease.endpoint_id, "_mine": lease.until}

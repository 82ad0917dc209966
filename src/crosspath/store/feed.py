"""The change feed's writing side: every change a transaction makes to a partner's records
becomes one event, written with the change, and one queued delivery per endpoint that wants it.

Writes note their changes as they happen (`note`); `transaction` writes them all at its end
(`recording`), so that a write that rolls back leaves no event, and a write that changes
nothing notes none.

Why no event is ever skipped: each partner's events are numbered by `partners.event_seq`,
taken with `UPDATE ... RETURNING` as the last statement before COMMIT. That row stays locked
until the transaction ends, so the next number is handed out only once the previous one is
committed (or rolled back and handed out again). A reader that asks for `seq > cursor` can
therefore never see event n+1 before event n, however the writers' transactions interleave.
The lock is held for the time of a COMMIT: concurrent writes of one partner take turns there,
other partners never wait. On PostgreSQL the counter, the events and their deliveries are one
statement (one round trip); SQLite, in process, runs the three.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import (
    Insert,
    String,
    Text,
    and_,
    bindparam,
    cast,
    column,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.engine import Connection

from crosspath.ids import new_id
from crosspath.store.tables import (
    UTCDateTime,
    events,
    partners,
    webhook_deliveries,
    webhook_endpoints,
)
from crosspath.timestamps import rfc3339, utcnow

_PENDING = "crosspath_feed"
EVENT_TYPES = (
    "company.created",
    "company.updated",
    "mission.created",
    "mission.updated",
    "mission.deleted",
)
ACTORS = ("partner", "crosspath")


@dataclass(frozen=True, slots=True)
class Change:
    partner_id: str
    type: str
    record_id: str
    object: Any  # the record after the change; for a deletion {"id", "external_id"}
    changed: Sequence[str]
    actor: str
    reason: str | None


class OutsideTransaction(RuntimeError):
    """A write through a path that would not record its event."""


def note(
    conn: Connection,
    partner_id: str,
    type_: str,
    record: Any,
    changed: Sequence[str],
    *,
    actor: str = "partner",
    reason: str | None = None,
) -> None:
    """Remember a committed-to-be change of a partner's record, for the transaction's end."""
    pending = conn.info.get(_PENDING)
    if pending is None:
        raise OutsideTransaction("partners' records are written only in store.transaction")
    record_id = record["id"] if isinstance(record, dict) else record.id
    pending.append(Change(partner_id, type_, record_id, record, tuple(changed), actor, reason))


def mark(conn: Connection) -> int:
    """Where the changes noted so far end, to forget those noted after it (a savepoint undone)."""
    return len(conn.info[_PENDING])


def forget_after(conn: Connection, position: int) -> None:
    del conn.info[_PENDING][position:]


@contextmanager
def recording(conn: Connection) -> Iterator[None]:
    """Collect the changes of the transaction around the block, and write their events when it
    ends without an error (the caller commits right after)."""
    conn.info[_PENDING] = []
    try:
        yield
        changes: list[Change] = conn.info[_PENDING]
        if changes:
            write_events(conn, changes)
    finally:
        conn.info.pop(_PENDING, None)


_NEXT_SEQ = (
    update(partners)
    .where(partners.c.id == bindparam("_partner_id"))
    .values(event_seq=partners.c.event_seq + bindparam("_count"))
    .returning(
        partners.c.event_seq,
        # whether any delivery is to be queued: most partners have no enabled endpoint
        select(webhook_endpoints.c.id)
        .where(
            webhook_endpoints.c.partner_id == bindparam("_partner_id"),
            webhook_endpoints.c.enabled.is_(True),
        )
        .exists(),
    )
)
_INSERT_EVENTS = insert(events)
_WANTS = or_(
    webhook_endpoints.c.type_filter == "",
    webhook_endpoints.c.type_filter.contains(literal(",") + events.c.type + literal(",")),
)
_QUEUED_COLUMNS = [
    "partner_id",
    "endpoint_id",
    "event_seq",
    "event_id",
    "event_type",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
]
_QUEUE = insert(webhook_deliveries).from_select(
    _QUEUED_COLUMNS,
    select(
        events.c.partner_id,
        webhook_endpoints.c.id,
        events.c.seq,
        events.c.id,
        events.c.type,
        literal("pending"),
        literal(0),
        events.c.created_at,
        events.c.created_at,
    )
    .join(webhook_endpoints, webhook_endpoints.c.partner_id == events.c.partner_id)
    .where(
        events.c.partner_id == bindparam("_partner_id"),
        and_(events.c.seq >= bindparam("_first"), events.c.seq <= bindparam("_last")),
        webhook_endpoints.c.enabled.is_(True),
        _WANTS,
    ),
)


def _in_one_statement() -> Insert:
    """On PostgreSQL, the three steps of `write_events` as one statement (one round trip): the
    counter taken, the events numbered from it, their deliveries queued."""

    partner_id = bindparam("_partner_id", type_=String)
    # The events as one JSON array of objects: one text parameter, where arrays of texts made
    # the driver escape every body element by element.
    given = (
        func.json_array_elements(cast(bindparam("_events", type_=Text), JSON))
        .table_valued(column("value", JSON), with_ordinality="ord")
        .render_derived(name="given")
    )
    count = func.json_array_length(cast(bindparam("_events", type_=Text), JSON))
    counter = (
        update(partners)
        .where(partners.c.id == partner_id)
        .values(event_seq=partners.c.event_seq + count)
        .returning(partners.c.event_seq)
        .cte("counter")
    )
    value = given.c.value
    numbered = select(
        partner_id,
        counter.c.event_seq - count + given.c.ord,
        value["id"].astext,
        value["type"].astext,
        value["record_id"].astext,
        bindparam("_now", type_=UTCDateTime()),
        value["body"].astext,
    ).select_from(counter.join(given, true()))
    new = (
        insert(events)
        .from_select(
            ["partner_id", "seq", "id", "type", "record_id", "created_at", "body"], numbered
        )
        .returning(
            events.c.partner_id, events.c.seq, events.c.id, events.c.type, events.c.created_at
        )
        .cte("new")
    )
    wants = or_(
        webhook_endpoints.c.type_filter == "",
        webhook_endpoints.c.type_filter.contains(literal(",") + new.c.type + literal(",")),
    )
    return insert(webhook_deliveries).from_select(
        _QUEUED_COLUMNS,
        select(
            new.c.partner_id,
            webhook_endpoints.c.id,
            new.c.seq,
            new.c.id,
            new.c.type,
            literal("pending"),
            literal(0),
            new.c.created_at,
            new.c.created_at,
        )
        .select_from(
            new.join(webhook_endpoints, webhook_endpoints.c.partner_id == new.c.partner_id)
        )
        .where(webhook_endpoints.c.enabled.is_(True), wants),
    )


_WRITE_POSTGRESQL = _in_one_statement()


def write_events(conn: Connection, changes: Sequence[Change]) -> None:
    by_partner: dict[str, list[Change]] = {}
    for change in changes:
        by_partner.setdefault(change.partner_id, []).append(change)
    now = utcnow()
    created_at = rfc3339(now)
    for partner_id, theirs in sorted(by_partner.items()):
        if conn.dialect.name == "postgresql":
            rows = [_row(change, 0, now, created_at) for change in theirs]
            given = [{key: row[key] for key in ("id", "type", "record_id", "body")} for row in rows]
            params = {
                "_partner_id": partner_id,
                "_now": now,
                "_events": msgspec.json.encode(given).decode(),
            }
            conn.execute(_WRITE_POSTGRESQL, params)
            continue
        taken = conn.execute(_NEXT_SEQ, {"_partner_id": partner_id, "_count": len(theirs)})
        counter = taken.first()
        if counter is None:
            raise OutsideTransaction(f"there is no partner {partner_id}")
        last, endpoints = counter
        first = last - len(theirs) + 1
        rows = [
            _row(change, seq, now, created_at) for seq, change in enumerate(theirs, start=first)
        ]
        conn.execute(_INSERT_EVENTS, rows)
        if endpoints:
            conn.execute(_QUEUE, {"_partner_id": partner_id, "_first": first, "_last": last})


def _row(change: Change, seq: int, now: Any, created_at: str) -> dict[str, Any]:
    event_id = new_id("evt")
    data: dict[str, Any] = {"object": change.object, "changed": list(change.changed)}
    if change.reason is not None:
        data["reason"] = change.reason
    body = {
        "id": event_id,
        "type": change.type,
        "created_at": created_at,
        "actor": change.actor,
        "data": data,
    }
    return {
        "partner_id": change.partner_id,
        "seq": seq,
        "id": event_id,
        "type": change.type,
        "record_id": change.record_id,
        "created_at": now,
        "body": msgspec.json.encode(body).decode(),
    }

"""Reading a partner's change feed, and forgetting events past their retention.

The events are written by `store.feed` in the transactions of the changes. A cursor is the
number of the last event a reader has seen; the next page is every event numbered after it.
Events numbered up to `partners.events_purged_through` are gone: a cursor before that is
expired (410), since the events between it and the oldest kept can no longer be read.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import Connection

from crosspath.errors import BadRequest, FieldErrors, Gone
from crosspath.paging import known_params, parse_limit
from crosspath.store.tables import events, partners, webhook_deliveries
from crosspath.timestamps import utcnow

MAX_LIMIT = 100
EXPIRED = (
    "This cursor is older than the events CrossPath keeps ({days} days), so events after it "
    "may be gone. To catch up, list your companies and missions with updated_since set to the "
    "time of your last sync, then follow the feed again from GET /events without after."
)
NOT_A_CURSOR = "after is not a cursor of your feed; send the next_cursor of a previous page"


@dataclass(frozen=True, slots=True)
class FeedQuery:
    after: int | None = None
    limit: int = MAX_LIMIT


def parse_query(params: Sequence[tuple[str, str]]) -> FeedQuery:
    """`after` and `limit`; anything unknown or repeated is a 400, as on every list."""
    seen, problems = known_params(params, ("after", "limit"))
    limit, after = MAX_LIMIT, None
    if "limit" in seen:
        limit = parse_limit(seen["limit"], problems, MAX_LIMIT) or limit
    if "after" in seen:
        after = decode_cursor(seen["after"])
        if after is None:
            problems.append(NOT_A_CURSOR)
    if problems:
        raise FieldErrors(problems)
    return FeedQuery(after, limit)


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"events:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, number = text.partition(":")
    if prefix != "events" or not (number.isascii() and number.isdigit()) or len(number) > 18:
        return None
    return int(number)


_PAGE = (
    select(events.c.seq, events.c.body)
    .where(events.c.partner_id == bindparam("_partner_id"), events.c.seq > bindparam("_after"))
    .order_by(events.c.seq)
    .limit(bindparam("_limit"))
)
_POSITION = select(partners.c.event_seq, partners.c.events_purged_through).where(
    partners.c.id == bindparam("_partner_id")
)


def page(conn: Connection, partner_id: str, query: FeedQuery, retention_days: int) -> bytes:
    """The page as the feed answers it, the stored events spliced in as they are.

    The events are read first and the partner's feed position after them, so that a purge
    that ran in between is seen (a 410): the position can only be newer than the page.
    """
    params = {"_partner_id": partner_id, "_after": query.after or 0, "_limit": query.limit + 1}
    found = conn.execute(_PAGE, params).all()
    last_given, purged = conn.execute(_POSITION, params).one()
    if query.after is not None:
        if query.after > last_given:
            raise BadRequest(NOT_A_CURSOR[0].upper() + NOT_A_CURSOR[1:] + ".")
        if query.after < purged:
            raise Gone(EXPIRED.format(days=retention_days))
    shown = found[: query.limit]
    position = shown[-1].seq if shown else max(query.after or 0, purged)
    more = b"true" if len(found) > query.limit else b"false"
    cursor = encode_cursor(position).encode()
    data = b",".join(row.body.encode() for row in shown)
    return b'{"data":[' + data + b'],"next_cursor":"' + cursor + b'","has_more":' + more + b"}"


_HISTORY = (
    select(events.c.body)
    .where(events.c.partner_id == bindparam("_partner_id"))
    .where(events.c.record_id == bindparam("_record_id"))
    .order_by(events.c.seq)
)


def history(conn: Connection, partner_id: str, record_id: str) -> list[dict[str, Any]]:
    """The events of one record still kept, oldest first."""
    params = {"_partner_id": partner_id, "_record_id": record_id}
    return [msgspec.json.decode(body) for body in conn.scalars(_HISTORY, params)]


def recent(conn: Connection, partner_id: str, limit: int) -> list[dict[str, Any]]:
    """A partner's newest events, newest first (for operators)."""
    statement = (
        select(events.c.body)
        .where(events.c.partner_id == partner_id)
        .order_by(events.c.seq.desc())
        .limit(limit)
    )
    return [msgspec.json.decode(body) for body in conn.scalars(statement)]


def purge(conn: Connection, retention_days: int) -> int:
    """Forget events older than the retention, and their deliveries; a partner's feed then
    starts after the last one forgotten. The number of events removed."""
    cutoff = utcnow() - timedelta(days=retention_days)
    ends = conn.execute(
        select(events.c.partner_id, func.max(events.c.seq).label("last"))
        .where(events.c.created_at < cutoff)
        .group_by(events.c.partner_id)
    ).all()
    removed = 0
    for partner_id, last in ends:
        conn.execute(
            update(partners).where(partners.c.id == partner_id).values(events_purged_through=last)
        )
        conn.execute(
            delete(webhook_deliveries).where(
                webhook_deliveries.c.partner_id == partner_id,
                webhook_deliveries.c.event_seq <= last,
            )
        )
        removed += conn.execute(
            delete(events).where(events.c.partner_id == partner_id, events.c.seq <= last)
        ).rowcount
    return removed

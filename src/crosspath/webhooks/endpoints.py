"""The rules of a partner's webhook endpoints and of the log of what was sent to them.

An endpoint's URL is checked before any transaction opens (the route does it: it resolves the
host). Deliveries are queued by `store.feed` with each event; here they are read, and one may
be set to be tried again now.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from crosspath import etags
from crosspath.errors import Conflict, NotFound
from crosspath.fields import Problems, parse_fields
from crosspath.ids import is_id, new_id
from crosspath.paging import ListQuery, encode_cursor
from crosspath.store.tables import partners, webhook_deliveries, webhook_endpoints
from crosspath.timestamps import rfc3339, utcnow
from crosspath.webhooks.schema import (
    DEFAULTS,
    MAX_ENDPOINTS,
    READ_ONLY,
    SPECS,
    CreatedWebhookEndpoint,
    Delivery,
    DeliveryPage,
    WebhookEndpoint,
)

ENDPOINT_NOT_FOUND = (
    "This webhook endpoint does not exist or you don't have the permission to access it."
)
DELIVERY_NOT_FOUND = "This endpoint has no delivery of that event."
TOO_MANY = (
    f"You already have {MAX_ENDPOINTS} webhook endpoints, the most an account may have; "
    "delete one you no longer use first."
)
DISABLED = "This endpoint is disabled: enable it (PATCH enabled: true) to have it tried again."
ID_PREFIX = "whe"

_COLUMNS = [webhook_endpoints.c[name] for name in WebhookEndpoint.__struct_fields__]
_ONE = select(*_COLUMNS).where(
    webhook_endpoints.c.partner_id == bindparam("_partner_id"),
    webhook_endpoints.c.id == bindparam("_id"),
)
_ALL = (
    select(*_COLUMNS)
    .where(webhook_endpoints.c.partner_id == bindparam("_partner_id"))
    .order_by(webhook_endpoints.c.id)
)
_COUNT = select(func.count()).where(webhook_endpoints.c.partner_id == bindparam("_partner_id"))
_LOCK_PARTNER = (
    select(partners.c.id).where(partners.c.id == bindparam("_partner_id")).with_for_update()
)


def parse(body: Mapping[str, Any], *, creating: bool) -> tuple[dict[str, Any], Problems]:
    problems = Problems()
    values = parse_fields(body, SPECS, problems, creating=creating, read_only=READ_ONLY)
    return values, problems


def type_filter(event_types: list[str] | None) -> str:
    """The wanted types as the queue matches them: `,a,b,`, or empty for every type."""
    return f",{','.join(event_types)}," if event_types else ""


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(*row)


def create_endpoint(
    conn: Connection, partner_id: str, values: dict[str, Any], secret: str
) -> CreatedWebhookEndpoint:
    conn.execute(_LOCK_PARTNER, {"_partner_id": partner_id})  # creates take turns: the limit holds
    if (conn.scalar(_COUNT, {"_partner_id": partner_id}) or 0) >= MAX_ENDPOINTS:
        raise Conflict(TOO_MANY)
    now = utcnow()
    values = DEFAULTS | values
    row = values | {
        "partner_id": partner_id,
        "id": new_id(ID_PREFIX),
        "type_filter": type_filter(values["event_types"]),
        "secret": secret,
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(insert(webhook_endpoints), row)
    stamped = row | {"created_at": rfc3339(now), "updated_at": rfc3339(now)}
    fields = (*WebhookEndpoint.__struct_fields__, "secret")
    return CreatedWebhookEndpoint(**{name: stamped[name] for name in fields})


def list_endpoints(conn: Connection, partner_id: str) -> list[WebhookEndpoint]:
    return [_endpoint(row) for row in conn.execute(_ALL, {"_partner_id": partner_id})]


def get_endpoint(
    conn: Connection, partner_id: str, endpoint_id: str, *, for_update: bool = False
) -> WebhookEndpoint:
    if not is_id(ID_PREFIX, endpoint_id):
        raise NotFound(ENDPOINT_NOT_FOUND)
    statement = _ONE.with_for_update() if for_update else _ONE
    row = conn.execute(statement, {"_partner_id": partner_id, "_id": endpoint_id}).first()
    if row is None:
        raise NotFound(ENDPOINT_NOT_FOUND)
    return _endpoint(row)


def update_endpoint(
    conn: Connection,
    partner_id: str,
    endpoint_id: str,
    values: dict[str, Any],
    if_match: str | None = None,
) -> WebhookEndpoint:
    current = get_endpoint(conn, partner_id, endpoint_id, for_update=True)
    etags.require(if_match, current)
    changed = {name: value for name, value in values.items() if getattr(current, name) != value}
    if not changed:
        return current
    now = utcnow()
    columns = dict(changed)
    if "event_types" in changed:
        columns["type_filter"] = type_filter(changed["event_types"])
    conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.partner_id == partner_id, webhook_endpoints.c.id == endpoint_id)
        .values(**columns, updated_at=now)
    )
    return msgspec.structs.replace(current, **changed, updated_at=rfc3339(now))


def delete_endpoint(
    conn: Connection, partner_id: str, endpoint_id: str, if_match: str | None = None
) -> None:
    """Remove an endpoint and the log of its deliveries; nothing more is sent to it."""
    etags.require(if_match, get_endpoint(conn, partner_id, endpoint_id))
    conn.execute(
        delete(webhook_deliveries).where(
            webhook_deliveries.c.partner_id == partner_id,
            webhook_deliveries.c.endpoint_id == endpoint_id,
        )
    )
    conn.execute(
        delete(webhook_endpoints).where(
            webhook_endpoints.c.partner_id == partner_id, webhook_endpoints.c.id == endpoint_id
        )
    )


_DELIVERY_COLUMNS = [webhook_deliveries.c[name] for name in Delivery.__struct_fields__]


def _deliveries(partner_id: str, endpoint_id: str) -> Any:
    return select(*_DELIVERY_COLUMNS, webhook_deliveries.c.event_seq).where(
        webhook_deliveries.c.partner_id == partner_id,
        webhook_deliveries.c.endpoint_id == endpoint_id,
    )


def list_deliveries(
    conn: Connection, partner_id: str, endpoint_id: str, query: ListQuery
) -> DeliveryPage:
    """The endpoint's deliveries, newest first; the cursor names the last event seen."""
    get_endpoint(conn, partner_id, endpoint_id)
    statement = _deliveries(partner_id, endpoint_id)
    if "status" in query.filters:
        statement = statement.where(webhook_deliveries.c.status == query.filters["status"])
    if query.after is not None:
        seen = (
            select(webhook_deliveries.c.event_seq)
            .where(
                webhook_deliveries.c.partner_id == partner_id,
                webhook_deliveries.c.endpoint_id == endpoint_id,
                webhook_deliveries.c.event_id == query.after,
            )
            .scalar_subquery()
        )
        statement = statement.where(webhook_deliveries.c.event_seq < seen)
    statement = statement.order_by(webhook_deliveries.c.event_seq.desc()).limit(query.limit + 1)
    rows = conn.execute(statement).all()
    shown = [Delivery(*row[:-1]) for row in rows[: query.limit]]
    cursor = encode_cursor(shown[-1].event_id) if len(rows) > query.limit else None
    return DeliveryPage(shown, cursor)


def retry_delivery(conn: Connection, partner_id: str, endpoint_id: str, event_id: str) -> Delivery:
    """Have a delivery tried again now, whatever its status; a failed one gets one more try."""
    endpoint = get_endpoint(conn, partner_id, endpoint_id)
    where = (
        webhook_deliveries.c.partner_id == partner_id,
        webhook_deliveries.c.endpoint_id == endpoint_id,
        webhook_deliveries.c.event_id == event_id,
    )
    if not endpoint.enabled:
        if conn.execute(select(webhook_deliveries.c.event_seq).where(*where)).first() is None:
            raise NotFound(DELIVERY_NOT_FOUND)
        raise Conflict(DISABLED)
    again = (
        update(webhook_deliveries)
        .where(*where)
        .values(status="pending", next_attempt_at=utcnow())
        .returning(*_DELIVERY_COLUMNS)
    )
    row = conn.execute(again).first()
    if row is None:
        raise NotFound(DELIVERY_NOT_FOUND)
    return Delivery(*row)

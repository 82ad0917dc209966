"""What operators see of a partner's webhooks: its endpoints with their queues, and deliveries."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from crosspath.accounts import service as accounts
from crosspath.errors import NotFound
from crosspath.store.tables import webhook_deliveries, webhook_endpoints
from crosspath.webhooks.queue import FAILED, PENDING

STATUSES = ("failed", "pending", "succeeded", "all")
_e, _d = webhook_endpoints, webhook_deliveries


class EndpointSummary(msgspec.Struct):
    id: str
    url: str
    enabled: bool
    event_types: list[str] | None  # None: every type
    pending: int
    failed: int
    description: str | None


class DeliveryRow(msgspec.Struct):
    endpoint_id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    last_status: int | None
    last_error: str | None
    last_attempt_at: str | None
    next_attempt_at: str | None
    created_at: str


def _count(status: str) -> Any:
    counted = select(func.count()).where(
        _d.c.partner_id == _e.c.partner_id, _d.c.endpoint_id == _e.c.id, _d.c.status == status
    )
    return counted.scalar_subquery().label(status)


def endpoints(conn: Connection, partner_id: str) -> list[EndpointSummary]:
    accounts.get_partner(conn, partner_id)
    query = (
        select(_e.c.id, _e.c.url, _e.c.enabled, _e.c.event_types, _e.c.description)
        .add_columns(_count(PENDING), _count(FAILED))
        .where(_e.c.partner_id == partner_id)
        .order_by(_e.c.id)
    )
    return [
        msgspec.convert(row, EndpointSummary, from_attributes=True) for row in conn.execute(query)
    ]


def deliveries(
    conn: Connection,
    partner_id: str,
    *,
    endpoint_id: str | None = None,
    status: str = "failed",
    limit: int = 50,
) -> list[DeliveryRow]:
    """The partner's deliveries, newest event first."""
    accounts.get_partner(conn, partner_id)
    query = select(_d).where(_d.c.partner_id == partner_id)
    if endpoint_id is not None:
        known = select(_e.c.id).where(_e.c.partner_id == partner_id, _e.c.id == endpoint_id)
        if conn.scalar(known) is None:
            raise NotFound(f"Partner {partner_id} has no webhook endpoint {endpoint_id}.")
        query = query.where(_d.c.endpoint_id == endpoint_id)
    if status != "all":
        query = query.where(_d.c.status == status)
    query = query.order_by(_d.c.event_seq.desc(), _d.c.endpoint_id).limit(limit)
    return [msgspec.convert(row, DeliveryRow, from_attributes=True) for row in conn.execute(query)]

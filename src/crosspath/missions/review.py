"""CrossPath's review of missions: any partner's, any status. For operators, never partners."""

from __future__ import annotations

import msgspec
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from crosspath.errors import MISSION_NOT_FOUND, BadRequest, NotFound
from crosspath.missions.schema import MISSIONS, STATUSES, Mission
from crosspath.store.tables import missions


class ReviewItem(Mission):
    partner_id: str


_PARTNER_OF = select(missions.c.partner_id).where(missions.c.id == bindparam("id"))


def list_for_review(conn: Connection, status: str | None) -> list[ReviewItem]:
    """Oldest first; every mission, or those in one status."""
    statement = MISSIONS.select.add_columns(missions.c.partner_id).order_by(missions.c.id)
    if status is not None:
        statement = statement.where(missions.c.status == status)
    return [
        ReviewItem(**msgspec.structs.asdict(MISSIONS.from_row(row)), partner_id=row.partner_id)
        for row in conn.execute(statement)
    ]


def set_status(
    conn: Connection, mission_id: str, status: str, *, reason: str | None = None
) -> Mission:
    """An operator's decision: publish (live), close, or reopen a mission, with the reason
    given to the partner (in the change feed's event)."""
    if status not in STATUSES:
        raise BadRequest(f"status must be one of: {', '.join(STATUSES)}.")
    partner_id = conn.scalar(_PARTNER_OF, {"id": mission_id})
    if partner_id is None:
        raise NotFound(f"There is no mission {mission_id}.")
    current = MISSIONS.load(conn, partner_id, mission_id, MISSION_NOT_FOUND, for_update=True)
    changes = {"status": status}
    return MISSIONS.update(conn, partner_id, current, changes, actor="crosspath", reason=reason)

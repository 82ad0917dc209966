"""The audit log: every change an operator makes, from the console or the command line.

An entry says who (an operator's e-mail, or `cli:` and the OS user), what (an action such as
`mission.publish`), on which record, when, and from where (the client address, or `cli:` and
the host). It is written in the transaction of the change it records, so neither exists
without the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from crosspath.ids import new_id
from crosspath.store.tables import audit_log
from crosspath.timestamps import utcnow

MAX_DETAIL = 2000


@dataclass(frozen=True, slots=True)
class Actor:
    who: str
    address: str


class AuditEntry(msgspec.Struct):
    id: str
    created_at: str
    actor: str
    action: str
    record_id: str | None
    address: str
    detail: str | None


def record(
    conn: Connection, actor: Actor, action: str, record_id: str | None, detail: str | None = None
) -> None:
    conn.execute(
        insert(audit_log).values(
            id=new_id("aud"),
            created_at=utcnow(),
            actor=actor.who[:300],
            action=action,
            record_id=record_id,
            address=actor.address[:300],
            detail=detail[:MAX_DETAIL] if detail else None,
        )
    )


def entries(
    conn: Connection, *, limit: int = 100, before: str | None = None, record_id: str | None = None
) -> list[AuditEntry]:
    """Newest first; `before` an entry's id pages back in time."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if before:
        query = query.where(audit_log.c.id < before)
    if record_id:
        query = query.where(audit_log.c.record_id == record_id)
    return [
        AuditEntry(
            id=row.id,
            created_at=row.created_at,
            actor=row.actor,
            action=row.action,
            record_id=row.record_id,
            address=row.address,
            detail=row.detail,
        )
        for row in conn.execute(query)
    ]

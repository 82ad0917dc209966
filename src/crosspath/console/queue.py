"""The review: private JDs waiting for CrossPath, a JD as an operator judges it, the decisions.

The decision itself is `missions.review.set_status`, so the partner sees it as every other
status change (its `updated_at`, and an event in its change feed with the reason).
"""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.engine import Connection

from crosspath.accounts import service as accounts
from crosspath.companies.schema import COMPANIES, Company
from crosspath.console import audit
from crosspath.errors import BadRequest, Conflict, NotFound
from crosspath.events import service as feed
from crosspath.missions import review
from crosspath.missions.schema import MISSIONS, Mission
from crosspath.references import service as references
from crosspath.store.tables import companies, missions

MAX_REASON = 2000
# What each decision does: the statuses it applies to, and the status it gives.
DECISIONS = {
    "publish": (("private",), "live"),
    "close": (("private", "live"), "closed"),
    "reopen": (("closed",), "live"),
}
DONE = {"publish": "published", "close": "closed", "reopen": "reopened"}


class QueueItem(msgspec.Struct):
    id: str
    title: str
    partner_id: str
    partner_name: str
    company_id: str
    company_name: str
    created_at: str
    updated_at: str


class HistoryEntry(msgspec.Struct):
    type: str
    actor: str | None
    changed: list[str]
    reason: str | None
    created_at: str


class JdView(msgspec.Struct):
    mission: Mission
    partner: accounts.Partner
    company: Company
    labels: dict[str, dict[str, str]]  # kind -> code -> label, for the codes shown
    history: list[HistoryEntry]


def queue(conn: Connection, partner_id: str | None = None) -> list[QueueItem]:
    """Private JDs, oldest first, of every partner or of one."""
    waiting = [
        item
        for item in review.list_for_review(conn, "private")
        if partner_id in (None, item.partner_id)
    ]
    partner_names = {partner.id: partner.name for partner in accounts.list_partners(conn)}
    company_names = _company_names(conn, {(item.partner_id, item.company_id) for item in waiting})
    return [
        QueueItem(
            id=item.id,
            title=item.title,
            partner_id=item.partner_id,
            partner_name=partner_names.get(item.partner_id, item.partner_id),
            company_id=item.company_id,
            company_name=company_names.get(item.company_id, item.company_id),
            created_at=item.created_at,
            updated_at=item.updated_at,
        )
        for item in waiting
    ]


def _company_names(conn: Connection, keys: set[tuple[str, str]]) -> dict[str, str]:
    if not keys:
        return {}
    rows = conn.execute(
        select(companies.c.id, companies.c.name).where(
            tuple_(companies.c.partner_id, companies.c.id).in_(sorted(keys))
        )
    )
    return {row.id: row.name for row in rows}


_PARTNER_OF = select(missions.c.partner_id).where(missions.c.id == bindparam("id"))


def partner_of(conn: Connection, mission_id: str) -> str:
    partner_id = conn.scalar(_PARTNER_OF, {"id": mission_id})
    if partner_id is None:
        raise NotFound(f"There is no JD {mission_id}.")
    return str(partner_id)


def jd(conn: Connection, mission_id: str) -> JdView:
    """Everything about one JD of any partner: its fields, their labels, its history."""
    partner_id = partner_of(conn, mission_id)
    missing = f"There is no JD {mission_id}."
    mission = MISSIONS.load(conn, partner_id, mission_id, missing)
    company = COMPANIES.load(conn, partner_id, mission.company_id, missing)
    wanted = {
        "positions": [mission.position],
        "locations": [mission.location, *([company.location] if company.location else [])],
        "languages": mission.languages,
        "sectors": [company.sector] if company.sector else [],
        "company_sizes": [company.size] if company.size else [],
    }
    labels = {kind: references.labels(conn, kind, codes) for kind, codes in wanted.items()}
    return JdView(
        mission=mission,
        partner=accounts.get_partner(conn, partner_id),
        company=company,
        labels=labels,
        history=history(conn, partner_id, mission_id),
    )


def history(conn: Connection, partner_id: str, mission_id: str) -> list[HistoryEntry]:
    """The JD's events in the partner's change feed, in the order the partner reads them."""
    return [_history_entry(body) for body in feed.history(conn, partner_id, mission_id)]


def _history_entry(body: dict[str, Any]) -> HistoryEntry:
    data = body.get("data") or {}
    return HistoryEntry(
        type=body["type"],
        actor=body.get("actor"),
        changed=list(data.get("changed") or []),
        reason=data.get("reason"),
        created_at=body["created_at"],
    )


def decide(
    conn: Connection, actor: audit.Actor, mission_id: str, decision: str, reason: str | None
) -> Mission:
    """Publish, close or reopen a JD, with an optional reason the partner is given."""
    if decision not in DECISIONS:
        raise BadRequest(f"The decision must be one of: {', '.join(DECISIONS)}.")
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise BadRequest(f"The reason must be at most {MAX_REASON} characters.")
    partner_id = partner_of(conn, mission_id)
    current = MISSIONS.load(
        conn, partner_id, mission_id, f"There is no JD {mission_id}.", for_update=True
    )
    applies_to, status = DECISIONS[decision]
    if current.status not in applies_to:
        raise Conflict(
            f"This JD is {current.status}: it cannot be {DONE[decision]}. "
            "Someone may have decided it meanwhile; the page now shows where it stands."
        )
    mission = review.set_status(conn, mission_id, status, reason=reason)
    audit.record(conn, actor, f"mission.{decision}", mission_id, reason)
    return mission

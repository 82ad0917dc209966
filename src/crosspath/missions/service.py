"""The rules of missions: create, read, update, list, within one partner's account.

A new mission is private until CrossPath reviews it; a partner may then only close it when it
is live. Every other field stays editable in every status.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from crosspath.errors import (
    COMPANY_NOT_USABLE,
    MISSION_NOT_FOUND,
    MISSION_NOT_UPDATABLE,
    STATUS_NOT_LIVE,
    BadRequest,
    Forbidden,
)
from crosspath.fields import Problems
from crosspath.ids import is_id
from crosspath.missions.schema import MISSIONS, Mission, MissionPage
from crosspath.paging import ListQuery
from crosspath.store.resource import check_references
from crosspath.store.tables import companies

NOT_ON_CREATE = (
    "status cannot be set on a new mission: new missions start private until CrossPath reviews them"
)
COMPANY_NOT_USABLE_PART = (
    "company_id names a company that does not exist or that you don't have the permission to use"
)
_COMPANY = select(companies.c.id).where(
    companies.c.partner_id == bindparam("partner_id"), companies.c.id == bindparam("company_id")
)

Parsed = tuple[dict[str, Any], Problems]


def parse(body: dict[str, Any], *, creating: bool) -> Parsed:
    """Check and clean a body before any transaction opens (HTML sanitising included)."""
    if creating and "status" in body:
        body = {name: value for name, value in body.items() if name != "status"}
        values, problems = MISSIONS.parse(body, creating=True)
        problems.messages.insert(0, NOT_ON_CREATE)
        return values, problems
    return MISSIONS.parse(body, creating=creating)


def _check(
    conn: Connection, partner_id: str, parsed: Parsed, current: Mission | None = None
) -> dict[str, Any]:
    values, problems = parsed
    check_references(conn, MISSIONS.specs, values, problems, current)
    company_id: str | None = values.get("company_id")
    moving = company_id is not None and (current is None or company_id != current.company_id)
    if moving and company_id is not None and not _owns_company(conn, partner_id, company_id):
        if not problems.messages:
            raise BadRequest(COMPANY_NOT_USABLE)
        problems.add(COMPANY_NOT_USABLE_PART)
    problems.raise_if_any()
    return values


def _owns_company(conn: Connection, partner_id: str, company_id: str) -> bool:
    if not is_id("cmp", company_id):
        return False
    params = {"partner_id": partner_id, "company_id": company_id}
    return conn.execute(_COMPANY, params).first() is not None


def create_mission(conn: Connection, partner_id: str, parsed: Parsed) -> Mission:
    values = _check(conn, partner_id, parsed)
    return MISSIONS.insert(conn, partner_id, MISSIONS.defaults | values)


def get_mission(conn: Connection, partner_id: str, mission_id: str) -> Mission:
    return MISSIONS.load(conn, partner_id, mission_id, MISSION_NOT_FOUND)


def update_mission(conn: Connection, partner_id: str, mission_id: str, parsed: Parsed) -> Mission:
    current = MISSIONS.load(conn, partner_id, mission_id, MISSION_NOT_UPDATABLE, for_update=True)
    values = _check(conn, partner_id, parsed, current)
    status = values.get("status", current.status)
    if status != current.status and (current.status, status) != ("live", "closed"):
        raise Forbidden(STATUS_NOT_LIVE)
    return MISSIONS.update(conn, partner_id, current, values)


def list_missions(conn: Connection, partner_id: str, query: ListQuery) -> MissionPage:
    data, cursor = MISSIONS.page(conn, partner_id, query)
    return MissionPage(data=data, next_cursor=cursor)

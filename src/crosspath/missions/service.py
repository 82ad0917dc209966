"""The rules of missions: create, read, update, replace, delete, list, within one partner's
account.

A new mission is private until CrossPath reviews it; a partner may then only close it when it
is live, and may delete it only while it is private. Every other field stays editable in every
status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection

from crosspath import etags, keyed
from crosspath.errors import (
    COMPANY_NOT_USABLE,
    MISSION_NOT_FOUND,
    MISSION_NOT_UPDATABLE,
    STATUS_NOT_LIVE,
    BadRequest,
    Conflict,
    Forbidden,
)
from crosspath.fields import Invalid, Line, Problems
from crosspath.ids import is_id
from crosspath.keyed import Written
from crosspath.missions.schema import MISSIONS, Mission, MissionPage
from crosspath.paging import ListQuery
from crosspath.store.codes import check_references, current_codes, reference_codes
from crosspath.store.tables import companies

NOT_ON_CREATE = (
    "status cannot be set on a new mission: new missions start private until CrossPath reviews them"
)
COMPANY_NOT_USABLE_PART = (
    "company_id names a company that does not exist or that you don't have the permission to use"
)
BOTH_COMPANY_IDS = "send company_id or company_external_id, not both"
ONLY_PRIVATE_DELETED = (
    "Only a private mission can be deleted; close a live mission by setting its status to closed."
)
_COMPANY = select(companies.c.id).where(
    companies.c.partner_id == bindparam("partner_id"), companies.c.id == bindparam("company_id")
)
_COMPANY_BY_EXTERNAL_ID = select(companies.c.id).where(
    companies.c.partner_id == bindparam("partner_id"),
    companies.c.external_id == bindparam("external_id"),
)
_OWNED_COMPANIES = select(companies.c.id).where(
    companies.c.partner_id == bindparam("partner_id"),
    companies.c.id.in_(bindparam("ids", expanding=True)),
)
_COMPANIES_BY_KEY = select(companies.c.id, companies.c.external_id).where(
    companies.c.partner_id == bindparam("partner_id"),
    companies.c.external_id.in_(bindparam("keys", expanding=True)),
)


@dataclass(frozen=True, slots=True)
class Parsed:
    """A body checked and cleaned before any transaction opens (HTML sanitising included)."""

    values: dict[str, Any]
    problems: Problems
    company_external_id: str | None = None


def parse(body: dict[str, Any], *, creating: bool) -> Parsed:
    body = dict(body)
    problems = Problems()
    if creating and "status" in body:
        del body["status"]
        problems.add(NOT_ON_CREATE)
    return _parse(body, problems, creating=creating)


def parse_put(body: dict[str, Any], external_id: str) -> Parsed:
    """A full record for PUT by external id (or a batch item). `status` may be sent: `private`
    when it creates, the partner's status rule when it replaces."""
    parsed = _parse(dict(body), Problems(), creating=True)
    keyed.same_external_id(parsed.values, external_id, parsed.problems)
    defaults = {name: value for name, value in MISSIONS.defaults.items() if name != "status"}
    return Parsed(defaults | parsed.values, parsed.problems, parsed.company_external_id)


def _parse(body: dict[str, Any], problems: Problems, *, creating: bool) -> Parsed:
    company_external_id = None
    if "company_external_id" in body:
        raw = body.pop("company_external_id")
        if "company_id" in body:
            problems.add(BOTH_COMPANY_IDS)
        try:
            company_external_id = Line(100)(raw)
        except Invalid as exc:
            problems.add(f"company_external_id {exc}")
    provided = ("company_id",) if company_external_id is not None else ()
    values, found = MISSIONS.parse(body, creating=creating, provided=provided)
    problems.messages += found.messages
    return Parsed(values, problems, company_external_id)


@dataclass(frozen=True, slots=True)
class Lookups:
    """What a batch looks up once for all its items: accepted codes, companies."""

    accepted: set[tuple[str, str]]
    owned: set[str]  # company ids of the partner among those named
    by_external_id: dict[str, str]  # the partner's company ids by external id, those named


def _lookups(conn: Connection, partner_id: str, items: list[tuple[str, Parsed]]) -> Lookups:
    parsed = [item for _, item in items]
    codes = set().union(*(reference_codes(MISSIONS.specs, p.values) for p in parsed))
    ids = sorted({p.values["company_id"] for p in parsed if p.values.get("company_id")})
    keys = sorted({p.company_external_id for p in parsed if p.company_external_id})
    params = {"partner_id": partner_id, "ids": ids, "keys": keys}
    owned = set(conn.scalars(_OWNED_COMPANIES, params)) if ids else set()
    by_key: dict[str, str] = {}
    if keys:
        by_key = {row.external_id: row.id for row in conn.execute(_COMPANIES_BY_KEY, params)}
    return Lookups(current_codes(conn, codes), owned, by_key)


def _check(
    conn: Connection,
    partner_id: str,
    parsed: Parsed,
    current: Mission | None = None,
    lookups: Lookups | None = None,
) -> dict[str, Any]:
    values, problems = dict(parsed.values), parsed.problems
    accepted = lookups.accepted if lookups else None
    check_references(conn, MISSIONS.specs, values, problems, current, accepted)
    if parsed.company_external_id is not None:
        company_id = (
            lookups.by_external_id.get(parsed.company_external_id)
            if lookups
            else conn.scalar(
                _COMPANY_BY_EXTERNAL_ID,
                {"partner_id": partner_id, "external_id": parsed.company_external_id},
            )
        )
        if company_id is None:
            _unusable_company(problems, "company_external_id")
        else:
            values["company_id"] = company_id
    else:
        company_id = values.get("company_id")
        moving = company_id is not None and (current is None or company_id != current.company_id)
        if moving and company_id is not None:
            owned = (
                company_id in lookups.owned
                if lookups
                else _owns_company(conn, partner_id, company_id)
            )
            if not owned:
                _unusable_company(problems, "company_id")
    problems.raise_if_any()
    return values


def _unusable_company(problems: Problems, field: str) -> None:
    if not problems.messages:
        raise BadRequest(COMPANY_NOT_USABLE)
    problems.add(COMPANY_NOT_USABLE_PART.replace("company_id", field, 1))


def _owns_company(conn: Connection, partner_id: str, company_id: str) -> bool:
    if not is_id("cmp", company_id):
        return False
    params = {"partner_id": partner_id, "company_id": company_id}
    return conn.execute(_COMPANY, params).first() is not None


def _status_rule(current: Mission, values: dict[str, Any]) -> None:
    status = values.get("status", current.status)
    if status != current.status and (current.status, status) != ("live", "closed"):
        raise Forbidden(STATUS_NOT_LIVE)


def create_mission(conn: Connection, partner_id: str, parsed: Parsed) -> Mission:
    values = _check(conn, partner_id, parsed)
    return MISSIONS.insert(conn, partner_id, MISSIONS.defaults | values)


def get_mission(conn: Connection, partner_id: str, mission_id: str) -> Mission:
    return MISSIONS.load(conn, partner_id, mission_id, MISSION_NOT_FOUND)


def update_mission(
    conn: Connection,
    partner_id: str,
    mission_id: str,
    parsed: Parsed,
    if_match: str | None = None,
) -> Mission:
    current = MISSIONS.load(conn, partner_id, mission_id, MISSION_NOT_UPDATABLE, for_update=True)
    etags.require(if_match, current)
    values = _check(conn, partner_id, parsed, current)
    _status_rule(current, values)
    return MISSIONS.update(conn, partner_id, current, values)


def put_mission(
    conn: Connection,
    partner_id: str,
    external_id: str,
    parsed: Parsed,
    if_match: str | None = None,
) -> Written[Mission]:
    """Make the partner's mission with this external id look like `parsed`."""

    def replacement(current: Mission | None) -> dict[str, Any]:
        return _replacement(conn, partner_id, parsed, current)

    return keyed.put(conn, MISSIONS, partner_id, external_id, if_match, replacement)


def _replacement(
    conn: Connection,
    partner_id: str,
    parsed: Parsed,
    current: Mission | None,
    lookups: Lookups | None = None,
) -> dict[str, Any]:
    """The values a PUT writes, after every rule: a create starts private, a replacement
    follows the partner's status rule (a status left out is kept)."""
    values = _check(conn, partner_id, parsed, current, lookups)
    if current is None:
        if values.setdefault("status", "private") != "private":
            raise BadRequest(NOT_ON_CREATE + ".")
    else:
        _status_rule(current, values)
    return values


def put_missions(
    conn: Connection, partner_id: str, items: list[tuple[str, Parsed]]
) -> dict[str, Any]:
    """A batch: each item as `put_mission` would apply it, the lookups done once for all."""
    lookups = _lookups(conn, partner_id, items)

    def decide(_external_id: str, parsed: Parsed, current: Mission | None) -> dict[str, Any]:
        return _replacement(conn, partner_id, parsed, current, lookups)

    return keyed.apply_batch(conn, MISSIONS, partner_id, items, decide)


def delete_mission(
    conn: Connection, partner_id: str, mission_id: str, if_match: str | None = None
) -> None:
    """Take down a JD CrossPath has not published; its external id is free again."""
    current = MISSIONS.load(conn, partner_id, mission_id, MISSION_NOT_UPDATABLE, for_update=True)
    etags.require(if_match, current)
    if current.status != "private":
        raise Conflict(ONLY_PRIVATE_DELETED)
    MISSIONS.delete(conn, partner_id, current)


def list_missions(conn: Connection, partner_id: str, query: ListQuery) -> MissionPage:
    data, cursor = MISSIONS.page(conn, partner_id, query)
    return MissionPage(data=data, next_cursor=cursor)

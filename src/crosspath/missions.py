"""Missions: the job descriptions (JDs) a partner wants filled, and their review status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.params import FromPath, RawBody
from sqlalchemy import select
from sqlalchemy.engine import Connection

from crosspath import references
from crosspath.companies import owns_company
from crosspath.db import bind, missions, read, run, transaction, utc_text, utcnow
from crosspath.errors import (
    COMPANY_NOT_USABLE,
    MISSION_NOT_FOUND,
    MISSION_NOT_UPDATABLE,
    STATUS_NOT_LIVE,
    BadRequest,
    Forbidden,
    NotFound,
)
from crosspath.ids import is_id, new_id
from crosspath.pagination import (
    ListQuery,
    parse_choice,
    parse_list_query,
    parse_text,
    parse_timestamp,
    split_page,
)
from crosspath.records import guard_external_id, reference_fields
from crosspath.validation import (
    Choice,
    Code,
    Codes,
    Integer,
    Invalid,
    Line,
    Problems,
    Spec,
    Text,
    parse_fields,
)
from crosspath.web import CallerDep, EngineDep, Timestamp, json_object, timestamp

ID_PREFIX = "msn"
STATUSES = ("private", "live", "closed")
PERIODS = ("year", "month", "day", "hour")
MAX_SALARY = 100_000_000
NOT_ON_CREATE = (
    "status cannot be set on a new mission: new missions start private until CrossPath reviews them"
)
COMPANY_NOT_USABLE_PART = (
    "company_id names a company that does not exist or that you don't have the permission to use"
)


@cache
def _currencies() -> frozenset[str]:
    import pycountry

    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


class Salary(msgspec.Struct):
    min: int
    max: int
    currency: str
    period: str


class SalaryCheck:
    """`{"min", "max", "currency", "period"}`, all four required, 0 <= min <= max."""

    def __call__(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Invalid("must be an object or null")
        problems = [
            f"salary.{key} is not a known field"
            for key in value
            if key not in Salary.__struct_fields__
        ]
        amount = Integer(0, MAX_SALARY)
        checks: dict[str, Any] = {
            "min": amount,
            "max": amount,
            "currency": self._currency,
            "period": Choice(PERIODS),
        }
        cleaned: dict[str, Any] = {}
        for key, check in checks.items():
            if value.get(key) is None:
                problems.append(f"salary.{key} is required")
                continue
            try:
                cleaned[key] = check(value[key])
            except Invalid as exc:
                problems.append(f"salary.{key} {exc}")
        if "min" in cleaned and "max" in cleaned and cleaned["min"] > cleaned["max"]:
            problems.append("salary.min must not be greater than salary.max")
        if problems:
            raise Invalid(nested=problems)
        return cleaned

    @staticmethod
    def _currency(value: Any) -> str:
        if not isinstance(value, str) or value.strip().upper() not in _currencies():
            raise Invalid("must be an ISO 4217 currency code, e.g. EUR")
        return value.strip().upper()

    def schema(self) -> dict[str, Any]:
        amount = {"type": "integer", "minimum": 0, "maximum": MAX_SALARY}
        return {
            "type": "object",
            "properties": {
                "min": amount,
                "max": amount,
                "currency": {"type": "string", "description": "ISO 4217 code", "example": "EUR"},
                "period": {"type": "string", "enum": list(PERIODS)},
            },
            "required": ["min", "max", "currency", "period"],
            "additionalProperties": False,
        }


EXAMPLE_COMPANY_ID = "cmp_01JD3B0RTSQ6V3J5M4F3K7Q8ZW"
SPECS = {
    "external_id": Spec(
        Line(100), description="Your own id for it; unique in your account.", example="jd-1042"
    ),
    "company_id": Spec(Line(40), required=True, nullable=False, example=EXAMPLE_COMPANY_ID),
    "title": Spec(Line(200), required=True, nullable=False, example="Senior Backend Engineer"),
    "description": Spec(
        Text(50_000, html=True),
        required=True,
        nullable=False,
        description="The JD as plain text or an HTML fragment; unsafe markup is removed.",
        example="<p>Build the booking platform.</p>",
    ),
    "position": Spec(
        Code("positions"), required=True, nullable=False, example="software_engineering"
    ),
    "location": Spec(Code("locations"), required=True, nullable=False, example="fr-paris"),
    "languages": Spec(Codes("languages", 10), nullable=False, example=["fr", "en"]),
    "contract_type": Spec(
        Choice(("permanent", "fixed_term", "freelance", "internship", "apprenticeship"))
    ),
    "remote_policy": Spec(Choice(("on_site", "hybrid", "remote"))),
    "experience_years_min": Spec(Integer(0, 50)),
    "salary": Spec(SalaryCheck()),
    "openings": Spec(Integer(1, 1000), nullable=False),
    "status": Spec(
        Choice(STATUSES),
        nullable=False,
        description="Set by CrossPath's review; you may only close a live mission.",
    ),
}
DEFAULTS = {"languages": [], "openings": 1}
FILTERS = {
    "external_id": parse_text,
    "updated_since": parse_timestamp,
    "company_id": parse_text,
    "status": parse_choice(*STATUSES),
}


class Mission(msgspec.Struct):
    id: str
    external_id: str | None
    company_id: str
    title: str
    description: str
    position: str
    location: str
    languages: list[str]
    contract_type: str | None
    remote_policy: str | None
    experience_years_min: int | None
    salary: Salary | None
    openings: int
    status: str
    created_at: Timestamp
    updated_at: Timestamp


class MissionPage(msgspec.Struct):
    data: list[Mission]
    next_cursor: str | None


class MissionRow(NamedTuple):
    """A row of `missions` as the driver returns it, with `languages` decoded."""

    partner_id: str
    id: str
    company_id: str
    external_id: str | None
    title: str
    description: str
    position: str
    location: str
    languages: list[str]
    contract_type: str | None
    remote_policy: str | None
    experience_years_min: int | None
    salary_min: int | None
    salary_max: Any  # the salary's four columns are all set or all null
    salary_currency: Any
    salary_period: Any
    openings: int
    status: str
    created_at: datetime | str
    updated_at: datetime | str


# Every mission route runs these on the driver (db.run): fixed SQL, no statement building.
_FIELDS = MissionRow._fields
_SELECT = f"SELECT {', '.join(_FIELDS)} FROM missions WHERE partner_id = ?"  # noqa: S608
_INSERT = f"INSERT INTO missions ({', '.join(_FIELDS)}) VALUES ({', '.join('?' * len(_FIELDS))})"  # noqa: S608


_LANGUAGES = _FIELDS.index("languages")


def _row(values: Sequence[Any]) -> MissionRow:
    if isinstance(values[_LANGUAGES], str):  # SQLite keeps JSON as text
        values = list(values)
        values[_LANGUAGES] = msgspec.json.decode(values[_LANGUAGES])
    return MissionRow._make(values)


def _mission(row: MissionRow) -> Mission:
    salary = None
    if row.salary_min is not None:
        salary = Salary(row.salary_min, row.salary_max, row.salary_currency, row.salary_period)
    return Mission(
        id=row.id,
        external_id=row.external_id,
        company_id=row.company_id,
        title=row.title,
        description=row.description,
        position=row.position,
        location=row.location,
        languages=list(row.languages),
        contract_type=row.contract_type,
        remote_policy=row.remote_policy,
        experience_years_min=row.experience_years_min,
        salary=salary,
        openings=row.openings,
        status=row.status,
        created_at=utc_text(row.created_at),
        updated_at=utc_text(row.updated_at),
    )


def _columns(values: dict[str, Any]) -> dict[str, Any]:
    """Field values as table columns: the salary object spreads over four columns."""
    columns = dict(values)
    if "salary" in columns:
        salary = columns.pop("salary") or {}
        for key in Salary.__struct_fields__:
            columns[f"salary_{key}"] = salary.get(key)
    return columns


def _current_values(row: MissionRow) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in SPECS if name != "salary"}
    values["salary"] = msgspec.to_builtins(_mission(row).salary)
    return values


def _clean(
    conn: Connection,
    partner_id: str,
    body: dict[str, Any],
    *,
    creating: bool,
    current: MissionRow | None = None,
) -> dict[str, Any]:
    problems = Problems()
    if creating and "status" in body:
        problems.add(NOT_ON_CREATE)
        body = {name: value for name, value in body.items() if name != "status"}
    values = parse_fields(body, SPECS, problems, creating=creating)
    references.check_codes(conn, problems, *reference_fields(SPECS, values, current))
    company_id: str | None = values.get("company_id")
    moving = company_id is not None and (current is None or company_id != current.company_id)
    if moving and company_id is not None and not owns_company(conn, partner_id, company_id):
        if not problems.messages:
            raise BadRequest(COMPANY_NOT_USABLE)
        problems.add(COMPANY_NOT_USABLE_PART)
    problems.raise_if_any()
    return values


def create_mission(conn: Connection, partner_id: str, body: dict[str, Any]) -> Mission:
    values = DEFAULTS | _clean(conn, partner_id, body, creating=True)
    now = utcnow()
    row = {name: None for name in SPECS} | values
    mission_id = new_id(ID_PREFIX)
    row |= {"partner_id": partner_id, "id": mission_id, "status": "private"}
    row |= {"created_at": now, "updated_at": now}
    columns = _columns(row)
    with guard_external_id(conn, missions, partner_id, values, "mission"):
        run(conn, _INSERT, [bind(conn, missions.c[name], columns[name]) for name in _FIELDS])
    # What was just written is what a read would return: no need to read it back.
    return _mission(_row([columns[name] for name in _FIELDS]))


def get_mission(conn: Connection, partner_id: str, mission_id: str) -> Mission:
    return _mission(_load(conn, partner_id, mission_id, MISSION_NOT_FOUND))


def update_mission(
    conn: Connection, partner_id: str, mission_id: FromPath[str], body: dict[str, Any]
) -> Mission:
    current = _load(conn, partner_id, mission_id, MISSION_NOT_UPDATABLE, for_update=True)
    values = _clean(conn, partner_id, body, creating=False, current=current)
    status = values.get("status", current.status)
    if status != current.status and (current.status, status) != ("live", "closed"):
        raise Forbidden(STATUS_NOT_LIVE)
    before = _current_values(current)
    changed = {name: value for name, value in values.items() if before[name] != value}
    _write(conn, partner_id, mission_id, changed)
    return _mission(_load(conn, partner_id, mission_id, MISSION_NOT_FOUND))


def _write(
    conn: Connection, partner_id: str, mission_id: FromPath[str], changed: dict[str, Any]
) -> None:
    if not changed:
        return
    columns = _columns(changed) | {"updated_at": utcnow()}
    assignments = ", ".join(f"{name} = ?" for name in columns)  # names from SPECS, not input
    values = [bind(conn, missions.c[name], value) for name, value in columns.items()]
    with guard_external_id(conn, missions, partner_id, changed, "mission"):
        run(
            conn,
            f"UPDATE missions SET {assignments} WHERE partner_id = ? AND id = ?",  # noqa: S608
            [*values, partner_id, mission_id],
        )


def list_missions(conn: Connection, partner_id: str, query: ListQuery) -> MissionPage:
    sql, params = _SELECT, list[Any]([partner_id])
    for name in ("external_id", "company_id", "status"):
        if name in query.filters:
            sql += f" AND {name} = ?"
            params.append(query.filters[name])
    if "updated_since" in query.filters:
        sql += " AND updated_at >= ?"
        params.append(bind(conn, missions.c.updated_at, query.filters["updated_since"]))
    if query.after is not None:
        sql += " AND id > ?"
        params.append(query.after)
    sql += " ORDER BY id LIMIT ?"
    params.append(query.limit + 1)
    rows, cursor = split_page([_row(values) for values in run(conn, sql, params)], query)
    return MissionPage(data=[_mission(row) for row in rows], next_cursor=cursor)


def _load(
    conn: Connection,
    partner_id: str,
    mission_id: FromPath[str],
    missing: str,
    *,
    for_update: bool = False,
) -> MissionRow:
    if not is_id(ID_PREFIX, mission_id):
        raise NotFound(missing)  # names nothing; PostgreSQL refuses some such strings (a NUL)
    lock = " FOR UPDATE" if for_update and conn.dialect.name != "sqlite" else ""
    rows = run(conn, f"{_SELECT} AND id = ?{lock}", (partner_id, mission_id))
    if not rows:
        raise NotFound(missing)
    return _row(rows[0])


# Operators' review: any status, any partner.


class ReviewItem(msgspec.Struct):
    id: str
    partner_id: str
    company_id: str
    title: str
    status: str
    created_at: str
    updated_at: str


def list_for_review(conn: Connection, status: str | None) -> list[ReviewItem]:
    statement = select(missions).order_by(missions.c.id)
    if status is not None:
        statement = statement.where(missions.c.status == status)
    return [
        ReviewItem(
            id=row.id,
            partner_id=row.partner_id,
            company_id=row.company_id,
            title=row.title,
            status=row.status,
            created_at=timestamp(row.created_at),
            updated_at=timestamp(row.updated_at),
        )
        for row in conn.execute(statement)
    ]


def set_status(conn: Connection, mission_id: FromPath[str], status: str) -> Mission:
    """An operator's decision: publish (live), close, or reopen a mission."""
    if status not in STATUSES:
        raise BadRequest(f"status must be one of: {', '.join(STATUSES)}.")
    row = conn.execute(
        select(missions.c.partner_id).where(missions.c.id == mission_id).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"There is no mission {mission_id}.")
    current = _load(conn, row.partner_id, mission_id, MISSION_NOT_FOUND)
    if current.status != status:
        _write(conn, row.partner_id, mission_id, {"status": status})
    return _mission(_load(conn, row.partner_id, mission_id, MISSION_NOT_FOUND))


# Routes


@post(
    "/missions", status_code=201, sync_to_thread=True, tags=["Missions"], summary="Open a mission"
)
def post_mission(
    request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, engine: EngineDep
) -> Response[Mission]:
    """Open a mission (a JD) for one of your companies. It starts `private` until CrossPath
    reviews it and makes it `live`."""
    data = json_object(request, body)
    with transaction(engine, write=True) as conn:
        mission = create_mission(conn, caller.partner_id, data)
    return Response(
        mission, status_code=201, headers={"Location": f"{request.url.path}/{mission.id}"}
    )


@get("/missions", tags=["Missions"], summary="List your missions")
async def get_missions(
    request: Request[Any, Any, Any], caller: CallerDep, engine: EngineDep
) -> MissionPage:
    """Your missions, oldest first, one page at a time."""
    query = parse_list_query(list(request.query_params.multi_items()), ID_PREFIX, FILTERS)
    return await read(engine, list_missions, caller.partner_id, query)


@get("/missions/{mission_id:str}", tags=["Missions"], summary="Get a mission")
async def get_one_mission(
    mission_id: FromPath[str], caller: CallerDep, engine: EngineDep
) -> Mission:
    """One of your missions."""
    return await read(engine, get_mission, caller.partner_id, mission_id)


@patch(
    "/missions/{mission_id:str}", sync_to_thread=True, tags=["Missions"], summary="Update a mission"
)
def patch_mission(
    request: Request[Any, Any, Any],
    mission_id: FromPath[str],
    body: RawBody,
    caller: CallerDep,
    engine: EngineDep,
) -> Mission:
    """Keep a JD in sync (JSON merge patch). Every field stays editable in every status; `status`
    itself may only go from `live` to `closed`."""
    data = json_object(request, body, patch=True)
    with transaction(engine, write=True) as conn:
        return update_mission(conn, caller.partner_id, mission_id, data)


ROUTES = [post_mission, get_missions, get_one_mission, patch_mission]

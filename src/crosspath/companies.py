"""Companies: the employers a partner recruits for."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.params import FromPath, RawBody
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from crosspath import references
from crosspath.db import companies, run, transaction, utcnow
from crosspath.errors import COMPANY_NOT_FOUND, NotFound
from crosspath.ids import is_id, new_id
from crosspath.pagination import (
    ListQuery,
    page,
    parse_list_query,
    parse_text,
    parse_timestamp,
    split_page,
)
from crosspath.records import guard_external_id, reference_fields
from crosspath.validation import Code, Line, Problems, Spec, Text, Url, parse_fields
from crosspath.web import CallerDep, EngineDep, Timestamp, json_object, timestamp

ID_PREFIX = "cmp"

SPECS = {
    "external_id": Spec(
        Line(100), description="Your own id for it; unique in your account.", example="c-42"
    ),
    "name": Spec(Line(200), required=True, nullable=False, example="Clinica Health"),
    "website": Spec(Url(2048), example="https://clinica.example"),
    "description": Spec(Text(20_000)),
    "sector": Spec(Code("sectors"), example="healthcare"),
    "size": Spec(Code("company_sizes"), example="51-200"),
    "location": Spec(
        Code("locations"), description="Head office: a code from locations.", example="fr-paris"
    ),
}
FILTERS = {"external_id": parse_text, "updated_since": parse_timestamp}


class Company(msgspec.Struct):
    id: str
    external_id: str | None
    name: str
    website: str | None
    description: str | None
    sector: str | None
    size: str | None
    location: str | None
    created_at: Timestamp
    updated_at: Timestamp


class CompanyPage(msgspec.Struct):
    data: list[Company]
    next_cursor: str | None


def _company(row: Row[Any]) -> Company:
    return Company(
        id=row.id,
        external_id=row.external_id,
        name=row.name,
        website=row.website,
        description=row.description,
        sector=row.sector,
        size=row.size,
        location=row.location,
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
    )


def _clean(
    conn: Connection, body: dict[str, Any], *, creating: bool, current: Row[Any] | None = None
) -> dict[str, Any]:
    problems = Problems()
    values = parse_fields(body, SPECS, problems, creating=creating)
    references.check_codes(conn, problems, *reference_fields(SPECS, values, current))
    problems.raise_if_any()
    return values


def create_company(conn: Connection, partner_id: str, body: dict[str, Any]) -> Company:
    values = _clean(conn, body, creating=True)
    now = utcnow()
    row = {name: None for name in SPECS} | values
    row |= {"partner_id": partner_id, "id": new_id(ID_PREFIX), "created_at": now, "updated_at": now}
    with guard_external_id(conn, companies, partner_id, values, "company"):
        conn.execute(insert(companies).values(row))
    return _company(_load(conn, partner_id, row["id"]))


def get_company(conn: Connection, partner_id: str, company_id: str) -> Company:
    return _company(_load(conn, partner_id, company_id))


def update_company(
    conn: Connection, partner_id: str, company_id: FromPath[str], body: dict[str, Any]
) -> Company:
    current = _load(conn, partner_id, company_id, for_update=True)
    values = _clean(conn, body, creating=False, current=current)
    changed = {name: value for name, value in values.items() if getattr(current, name) != value}
    if changed:
        with guard_external_id(conn, companies, partner_id, changed, "company"):
            conn.execute(
                update(companies)
                .where(companies.c.partner_id == partner_id, companies.c.id == company_id)
                .values(changed | {"updated_at": utcnow()})
            )
    return _company(_load(conn, partner_id, company_id))


def list_companies(conn: Connection, partner_id: str, query: ListQuery) -> CompanyPage:
    statement = select(companies).where(companies.c.partner_id == partner_id)
    if "external_id" in query.filters:
        statement = statement.where(companies.c.external_id == query.filters["external_id"])
    if "updated_since" in query.filters:
        statement = statement.where(companies.c.updated_at >= query.filters["updated_since"])
    rows, cursor = split_page(conn.execute(page(query, companies, statement)).all(), query)
    return CompanyPage(data=[_company(row) for row in rows], next_cursor=cursor)


def owns_company(conn: Connection, partner_id: str, company_id: str) -> bool:
    # Every mission write asks: the driver directly (see db.run).
    sql = "SELECT 1 FROM companies WHERE partner_id = ? AND id = ?"
    return bool(run(conn, sql, (partner_id, company_id)))


def _find(
    conn: Connection, partner_id: str, company_id: FromPath[str], *, for_update: bool = False
) -> Row[Any] | None:
    if not is_id(ID_PREFIX, company_id):
        return None  # names nothing, and PostgreSQL refuses some such strings (a NUL) outright
    statement = select(companies).where(
        companies.c.partner_id == partner_id, companies.c.id == company_id
    )
    return conn.execute(statement.with_for_update() if for_update else statement).first()


def _load(
    conn: Connection, partner_id: str, company_id: FromPath[str], *, for_update: bool = False
) -> Row[Any]:
    row = _find(conn, partner_id, company_id, for_update=for_update)
    if row is None:
        raise NotFound(COMPANY_NOT_FOUND)
    return row


# Routes


@post(
    "/companies",
    status_code=201,
    sync_to_thread=True,
    tags=["Companies"],
    summary="Create a company",
)
def post_company(
    request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, engine: EngineDep
) -> Response[Company]:
    """Create a company you recruit for. Its `id` is what missions refer to as `company_id`."""
    data = json_object(request, body)
    with transaction(engine, write=True) as conn:
        company = create_company(conn, caller.partner_id, data)
    return Response(
        company, status_code=201, headers={"Location": f"{request.url.path}/{company.id}"}
    )


@get("/companies", sync_to_thread=True, tags=["Companies"], summary="List your companies")
def get_companies(
    request: Request[Any, Any, Any], caller: CallerDep, engine: EngineDep
) -> CompanyPage:
    """Your companies, oldest first, one page at a time."""
    query = parse_list_query(list(request.query_params.multi_items()), ID_PREFIX, FILTERS)
    with transaction(engine) as conn:
        return list_companies(conn, caller.partner_id, query)


@get(
    "/companies/{company_id:str}", sync_to_thread=True, tags=["Companies"], summary="Get a company"
)
def get_one_company(company_id: FromPath[str], caller: CallerDep, engine: EngineDep) -> Company:
    """One of your companies."""
    with transaction(engine) as conn:
        return get_company(conn, caller.partner_id, company_id)


@patch(
    "/companies/{company_id:str}",
    sync_to_thread=True,
    tags=["Companies"],
    summary="Update a company",
)
def patch_company(
    request: Request[Any, Any, Any],
    company_id: FromPath[str],
    body: RawBody,
    caller: CallerDep,
    engine: EngineDep,
) -> Company:
    """Update a company (JSON merge patch): fields sent are set, `null` clears, others are kept."""
    data = json_object(request, body, patch=True)
    with transaction(engine, write=True) as conn:
        return update_company(conn, caller.partner_id, company_id, data)


ROUTES = [post_company, get_companies, get_one_company, patch_company]

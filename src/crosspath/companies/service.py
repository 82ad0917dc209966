"""The rules of companies: create, read, update, replace, list, within one partner's account."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from crosspath import etags, keyed
from crosspath.companies.schema import COMPANIES, Company, CompanyPage
from crosspath.errors import COMPANY_NOT_FOUND
from crosspath.fields import Problems
from crosspath.keyed import Written
from crosspath.paging import ListQuery
from crosspath.store.codes import check_references, current_codes, reference_codes

Parsed = tuple[dict[str, Any], Problems]


def parse(body: dict[str, Any], *, creating: bool) -> Parsed:
    """Check and clean a body before any transaction opens (HTML sanitising included)."""
    return COMPANIES.parse(body, creating=creating)


def parse_put(body: dict[str, Any], external_id: str) -> Parsed:
    """A full record for PUT by external id (or a batch item): what is left out is reset."""
    values, problems = COMPANIES.parse(body, creating=True)
    keyed.same_external_id(values, external_id, problems)
    return COMPANIES.defaults | values, problems


def create_company(conn: Connection, partner_id: str, parsed: Parsed) -> Company:
    values, problems = parsed
    check_references(conn, COMPANIES.specs, values, problems)
    problems.raise_if_any()
    return COMPANIES.insert(conn, partner_id, COMPANIES.defaults | values)


def get_company(conn: Connection, partner_id: str, company_id: str) -> Company:
    return COMPANIES.load(conn, partner_id, company_id, COMPANY_NOT_FOUND)


def update_company(
    conn: Connection,
    partner_id: str,
    company_id: str,
    parsed: Parsed,
    if_match: str | None = None,
) -> Company:
    current = COMPANIES.load(conn, partner_id, company_id, COMPANY_NOT_FOUND, for_update=True)
    etags.require(if_match, current)
    values, problems = parsed
    check_references(conn, COMPANIES.specs, values, problems, current)
    problems.raise_if_any()
    return COMPANIES.update(conn, partner_id, current, values)


def put_company(
    conn: Connection,
    partner_id: str,
    external_id: str,
    parsed: Parsed,
    if_match: str | None = None,
) -> Written[Company]:
    """Make the partner's company with this external id look like `parsed`."""

    def replacement(current: Company | None) -> dict[str, Any]:
        return _replacement(conn, parsed, current)

    return keyed.put(conn, COMPANIES, partner_id, external_id, if_match, replacement)


def _replacement(
    conn: Connection,
    parsed: Parsed,
    current: Company | None,
    accepted: set[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    values, problems = parsed
    check_references(conn, COMPANIES.specs, values, problems, current, accepted)
    problems.raise_if_any()
    return values


def put_companies(
    conn: Connection, partner_id: str, items: list[tuple[str, Parsed]]
) -> dict[str, Any]:
    """A batch: each item as `put_company` would apply it, the lookups done once for all."""
    codes = set().union(*(reference_codes(COMPANIES.specs, values) for _, (values, _) in items))
    accepted = current_codes(conn, codes)

    def decide(_external_id: str, parsed: Parsed, current: Company | None) -> dict[str, Any]:
        return _replacement(conn, parsed, current, accepted)

    return keyed.apply_batch(conn, COMPANIES, partner_id, items, decide)


def list_companies(conn: Connection, partner_id: str, query: ListQuery) -> CompanyPage:
    data, cursor = COMPANIES.page(conn, partner_id, query)
    return CompanyPage(data=data, next_cursor=cursor)

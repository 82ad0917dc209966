"""The rules of companies: create, read, update, list, always within one partner's account."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from crosspath.companies.schema import COMPANIES, Company, CompanyPage
from crosspath.errors import COMPANY_NOT_FOUND
from crosspath.fields import Problems
from crosspath.paging import ListQuery
from crosspath.store.resource import check_references

Parsed = tuple[dict[str, Any], Problems]


def parse(body: dict[str, Any], *, creating: bool) -> Parsed:
    """Check and clean a body before any transaction opens (HTML sanitising included)."""
    return COMPANIES.parse(body, creating=creating)


def create_company(conn: Connection, partner_id: str, parsed: Parsed) -> Company:
    values, problems = parsed
    check_references(conn, COMPANIES.specs, values, problems)
    problems.raise_if_any()
    return COMPANIES.insert(conn, partner_id, COMPANIES.defaults | values)


def get_company(conn: Connection, partner_id: str, company_id: str) -> Company:
    return COMPANIES.load(conn, partner_id, company_id, COMPANY_NOT_FOUND)


def update_company(conn: Connection, partner_id: str, company_id: str, parsed: Parsed) -> Company:
    current = COMPANIES.load(conn, partner_id, company_id, COMPANY_NOT_FOUND, for_update=True)
    values, problems = parsed
    check_references(conn, COMPANIES.specs, values, problems, current)
    problems.raise_if_any()
    return COMPANIES.update(conn, partner_id, current, values)


def list_companies(conn: Connection, partner_id: str, query: ListQuery) -> CompanyPage:
    data, cursor = COMPANIES.page(conn, partner_id, query)
    return CompanyPage(data=data, next_cursor=cursor)

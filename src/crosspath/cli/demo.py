"""`crosspath serve --demo`: a partner, a key and a few valid records to try the API with."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from crosspath.accounts.service import IssuedKey, create_partner, issue_key
from crosspath.companies import service as companies
from crosspath.companies.schema import Company
from crosspath.missions import service as missions
from crosspath.missions.schema import Mission
from crosspath.store.tables import partners

JD = """<h2>About the role</h2>
<p>Join a product team of eight building the booking platform used by 2,000 clinics.</p>
<ul><li>Design and ship backend services in Python</li><li>Own features end to end</li></ul>
<p>Hybrid: two days a week in our Paris office.</p>"""


def seed_demo(conn: Connection, secret: str) -> IssuedKey | None:
    """Create the demo data on an empty database; None if it already has partners."""
    if conn.scalar(select(func.count()).select_from(partners)):
        return None
    partner = create_partner(conn, "Demo recruitment platform")
    key = issue_key(conn, secret, partner.id, "demo")
    clinic = _company(
        conn,
        partner.id,
        {
            "external_id": "demo-company-1",
            "name": "Clinica Health",
            "website": "https://clinica.example",
            "sector": "healthcare",
            "size": "51-200",
            "location": "fr-paris",
        },
    )
    _company(
        conn,
        partner.id,
        {
            "external_id": "demo-company-2",
            "name": "Northwind Logistics",
            "sector": "logistics",
            "size": "1001-5000",
            "location": "DE",
        },
    )
    _mission(
        conn,
        partner.id,
        {
            "external_id": "demo-jd-1",
            "company_id": clinic.id,
            "title": "Senior Backend Engineer",
            "description": JD,
            "position": "software_engineering",
            "location": "fr-paris",
            "languages": ["fr", "en"],
            "contract_type": "permanent",
            "remote_policy": "hybrid",
            "experience_years_min": 5,
            "salary": {"min": 65000, "max": 80000, "currency": "EUR", "period": "year"},
        },
    )
    _mission(
        conn,
        partner.id,
        {
            "external_id": "demo-jd-2",
            "company_id": clinic.id,
            "title": "Product Designer",
            "description": "Shape the booking experience for patients and clinic staff.",
            "position": "design",
            "location": "fr-lyon",
            "languages": ["fr"],
        },
    )
    return key


def _company(conn: Connection, partner_id: str, body: dict[str, Any]) -> Company:
    return companies.create_company(conn, partner_id, companies.parse(body, creating=True))


def _mission(conn: Connection, partner_id: str, body: dict[str, Any]) -> Mission:
    return missions.create_mission(conn, partner_id, missions.parse(body, creating=True))

"""A company: an employer a partner recruits for. Its fields are declared here, once."""

from __future__ import annotations

from typing import Annotated

import msgspec

from crosspath.fields import Code, Line, Spec, Text, Url
from crosspath.paging import parse_text, parse_timestamp
from crosspath.records import Id, Timestamp
from crosspath.store.resource import Resource
from crosspath.store.tables import companies

EXTERNAL_ID = Spec(
    Line(100), description="Your own id for it; unique in your account.", example="c-42"
)


class Company(msgspec.Struct):
    id: Id
    external_id: Annotated[str | None, EXTERNAL_ID]
    name: Annotated[str, Spec(Line(200), required=True, example="Clinica Health")]
    website: Annotated[str | None, Spec(Url(2048), example="https://clinica.example")]
    description: Annotated[
        str | None,
        Spec(
            Text(20_000, html=True),
            description="Plain text or an HTML fragment, made safe as a JD's description is.",
        ),
    ]
    sector: Annotated[str | None, Spec(Code("sectors"), example="healthcare")]
    size: Annotated[str | None, Spec(Code("company_sizes"), example="51-200")]
    location: Annotated[
        str | None,
        Spec(Code("locations"), description="Head office: a code from locations.", example="DE"),
    ]
    created_at: Timestamp
    updated_at: Timestamp


class CompanyPage(msgspec.Struct):
    data: list[Company]
    next_cursor: str | None


COMPANIES = Resource(Company, companies, noun="company", id_prefix="cmp")
FILTERS = {"external_id": parse_text, "updated_since": parse_timestamp}

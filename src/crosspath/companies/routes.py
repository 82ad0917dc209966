"""The companies' routes: parse, call one service function, answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response, get, patch, post, put
from litestar.params import FromPath, RawBody

from crosspath import keyed
from crosspath.api import answers, idempotency
from crosspath.api.deps import CallerDep, EngineDep, json_object, list_query, path_tail
from crosspath.api.openapi import Section
from crosspath.api.schemas import (
    batch_item,
    batch_result_schema,
    batch_schema,
    page_schema,
    written_schema,
)
from crosspath.companies import service
from crosspath.companies.schema import COMPANIES, FILTERS, Company, CompanyPage
from crosspath.records import spec_schema, struct_schema
from crosspath.store.idempotency import Outcome
from crosspath.store.transaction import read, write

COLLECTION = "/companies"


@post("/companies", status_code=201, tags=["Companies"], summary="Create a company")
async def post_company(
    request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, engine: EngineDep
) -> Response[Company]:
    """Create a company you recruit for. Its `id` is what missions refer to as `company_id`.
    Send an `Idempotency-Key` to retry safely."""
    data = json_object(request, body)
    parsed = service.parse(data, creating=True)

    def create(conn: Any) -> Outcome:
        company = service.create_company(conn, caller.partner_id, parsed)
        location = answers.location_of(request, COLLECTION, company.id)
        return Outcome(201, msgspec.json.encode(company), location)

    return await idempotency.run(request, engine, caller, data, create)


@post(
    "/companies/batch", status_code=200, tags=["Companies"], summary="Create or replace companies"
)
async def post_companies_batch(
    request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, engine: EngineDep
) -> Response[Any]:
    """Up to 100 companies keyed by your `external_id`, each applied as `PUT
    /companies/by-external-id/{external_id}` would, independently; the results are in the
    order of the items."""
    data = json_object(request, body)
    items = [
        (external_id, service.parse_put(item, external_id))
        for external_id, item in keyed.batch_items(data)
    ]

    def apply(conn: Any) -> Outcome:
        results = service.put_companies(conn, caller.partner_id, items)
        return Outcome(200, msgspec.json.encode(results))

    return await idempotency.run(request, engine, caller, data, apply)


@get("/companies", tags=["Companies"], summary="List your companies")
async def get_companies(
    request: Request[Any, Any, Any], caller: CallerDep, engine: EngineDep
) -> CompanyPage:
    """Your companies, oldest first, one page at a time."""
    query = list_query(request, COMPANIES.id_prefix, FILTERS)
    return await read(engine, service.list_companies, caller.partner_id, query)


@get("/companies/{company_id:str}", tags=["Companies"], summary="Get a company")
async def get_one_company(
    request: Request[Any, Any, Any], company_id: FromPath[str], caller: CallerDep, engine: EngineDep
) -> Response[Company]:
    """One of your companies, with its `ETag` (send it as `If-None-Match` to get 304 while it
    has not changed)."""
    company = await read(engine, service.get_company, caller.partner_id, company_id)
    return answers.record(request, company)


@patch("/companies/{company_id:str}", tags=["Companies"], summary="Update a company")
async def patch_company(
    request: Request[Any, Any, Any],
    company_id: FromPath[str],
    body: RawBody,
    caller: CallerDep,
    engine: EngineDep,
) -> Response[Company]:
    """Update a company (JSON merge patch): fields sent are set, `null` clears, others are kept.
    With `If-Match`, only if it has not changed since."""
    parsed = service.parse(json_object(request, body, patch=True), creating=False)
    if_match = request.headers.get("if-match")
    company = await write(
        engine, service.update_company, caller.partner_id, company_id, parsed, if_match
    )
    return answers.record(request, company)


@put(
    "/companies/by-external-id/{external_id:path}",
    tags=["Companies"],
    summary="Create or replace a company by your id",
)
async def put_company(
    request: Request[Any, Any, Any],
    external_id: FromPath[str],
    body: RawBody,
    caller: CallerDep,
    engine: EngineDep,
) -> Response[Company]:
    """Make your company with this `external_id` (percent-encoded in the path) look like the
    body: created (201) when you have none, else replaced (200). Fields left out are reset."""
    key = keyed.path_external_id(path_tail(request, "/by-external-id/", external_id))
    parsed = service.parse_put(json_object(request, body), key)
    if_match = request.headers.get("if-match")
    written = await write(engine, service.put_company, caller.partner_id, key, parsed, if_match)
    return answers.put(request, written, COLLECTION)


ROUTES = [
    post_company,
    post_companies_batch,
    get_companies,
    get_one_company,
    patch_company,
    put_company,
]


def _schemas(names: Mapping[Any, str]) -> dict[str, Any]:
    full = spec_schema(COMPANIES.specs, required=True, names=names)
    return {
        "Company": struct_schema(Company, names),
        "CompanyCreate": full,
        "CompanyPatch": spec_schema(COMPANIES.specs, required=False, names=names),
        "CompanyPage": page_schema(CompanyPage, "Company"),
        "CompanyPut": full | {"description": PUT_BODY},
        "CompanyBatchItem": batch_item(full),
        "CompanyBatch": batch_schema("CompanyBatchItem"),
        "CompanyWritten": written_schema("company", "Company"),
        "CompanyBatchResult": batch_result_schema("CompanyWritten"),
    }


PUT_BODY = (
    "The whole company: what is left out is reset to its default; an `external_id`, if sent, "
    "must be the path's."
)
DOCUMENT = Section(
    schemas=_schemas,
    bodies={
        ("post", "/companies"): "CompanyCreate",
        ("patch", "/companies/{company_id}"): "CompanyPatch",
        ("put", "/companies/by-external-id/{external_id}"): "CompanyPut",
        ("post", "/companies/batch"): "CompanyBatch",
    },
    responses={("post", "/companies/batch"): "CompanyBatchResult"},
    lists={"/companies": {}},
    untagged=[("post", "/companies/batch")],
)

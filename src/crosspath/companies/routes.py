"""The companies' routes: parse, call one service function, answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, Response, get, patch, post
from litestar.params import FromPath, RawBody

from crosspath.api.deps import CallerDep, EngineDep, json_object, list_query
from crosspath.api.openapi import Section, page_schema
from crosspath.companies import service
from crosspath.companies.schema import COMPANIES, FILTERS, Company, CompanyPage
from crosspath.records import spec_schema, struct_schema
from crosspath.store.transaction import read, write


@post("/companies", status_code=201, tags=["Companies"], summary="Create a company")
async def post_company(
    request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, engine: EngineDep
) -> Response[Company]:
    """Create a company you recruit for. Its `id` is what missions refer to as `company_id`."""
    parsed = service.parse(json_object(request, body), creating=True)
    company = await write(engine, service.create_company, caller.partner_id, parsed)
    return Response(
        company, status_code=201, headers={"Location": f"{request.url.path}/{company.id}"}
    )


@get("/companies", tags=["Companies"], summary="List your companies")
async def get_companies(
    request: Request[Any, Any, Any], caller: CallerDep, engine: EngineDep
) -> CompanyPage:
    """Your companies, oldest first, one page at a time."""
    query = list_query(request, COMPANIES.id_prefix, FILTERS)
    return await read(engine, service.list_companies, caller.partner_id, query)


@get("/companies/{company_id:str}", tags=["Companies"], summary="Get a company")
async def get_one_company(
    company_id: FromPath[str], caller: CallerDep, engine: EngineDep
) -> Company:
    """One of your companies."""
    return await read(engine, service.get_company, caller.partner_id, company_id)


@patch("/companies/{company_id:str}", tags=["Companies"], summary="Update a company")
async def patch_company(
    request: Request[Any, Any, Any],
    company_id: FromPath[str],
    body: RawBody,
    caller: CallerDep,
    engine: EngineDep,
) -> Company:
    """Update a company (JSON merge patch): fields sent are set, `null` clears, others are kept."""
    parsed = service.parse(json_object(request, body, patch=True), creating=False)
    return await write(engine, service.update_company, caller.partner_id, company_id, parsed)


ROUTES = [post_company, get_companies, get_one_company, patch_company]


def _schemas(names: Mapping[Any, str]) -> dict[str, Any]:
    return {
        "Company": struct_schema(Company, names),
        "CompanyCreate": spec_schema(COMPANIES.specs, required=True, names=names),
        "CompanyPatch": spec_schema(COMPANIES.specs, required=False, names=names),
        "CompanyPage": page_schema(CompanyPage, "Company"),
    }


DOCUMENT = Section(
    schemas=_schemas,
    bodies={
        ("post", "/companies"): "CompanyCreate",
        ("patch", "/companies/{company_id}"): "CompanyPatch",
    },
    lists={"/companies": {}},
)

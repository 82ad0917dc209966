"""The missions' routes: parse, call one service function, answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, Response, get, patch, post
from litestar.params import FromPath, RawBody

from crosspath.api.deps import CallerDep, EngineDep, json_object, list_query
from crosspath.api.openapi import TEXT_FILTER, Section, page_schema, ref
from crosspath.fields import Choice
from crosspath.missions import service
from crosspath.missions.schema import FILTERS, MISSIONS, Mission, MissionPage, Salary
from crosspath.records import declared, spec_schema, struct_schema
from crosspath.store.transaction import read, write


@post("/missions", status_code=201, tags=["Missions"], summary="Open a mission")
async def post_mission(
    request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, engine: EngineDep
) -> Response[Mission]:
    """Open a mission (a JD) for one of your companies. It starts `private` until CrossPath
    reviews it and makes it `live`."""
    parsed = service.parse(json_object(request, body), creating=True)
    mission = await write(engine, service.create_mission, caller.partner_id, parsed)
    return Response(
        mission, status_code=201, headers={"Location": f"{request.url.path}/{mission.id}"}
    )


@get("/missions", tags=["Missions"], summary="List your missions")
async def get_missions(
    request: Request[Any, Any, Any], caller: CallerDep, engine: EngineDep
) -> MissionPage:
    """Your missions, oldest first, one page at a time."""
    query = list_query(request, MISSIONS.id_prefix, FILTERS)
    return await read(engine, service.list_missions, caller.partner_id, query)


@get("/missions/{mission_id:str}", tags=["Missions"], summary="Get a mission")
async def get_one_mission(
    mission_id: FromPath[str], caller: CallerDep, engine: EngineDep
) -> Mission:
    """One of your missions."""
    return await read(engine, service.get_mission, caller.partner_id, mission_id)


@patch("/missions/{mission_id:str}", tags=["Missions"], summary="Update a mission")
async def patch_mission(
    request: Request[Any, Any, Any],
    mission_id: FromPath[str],
    body: RawBody,
    caller: CallerDep,
    engine: EngineDep,
) -> Mission:
    """Keep a JD in sync (JSON merge patch). Every field stays editable in every status; `status`
    itself may only go from `live` to `closed`."""
    parsed = service.parse(json_object(request, body, patch=True), creating=False)
    return await write(engine, service.update_mission, caller.partner_id, mission_id, parsed)


ROUTES = [post_mission, get_missions, get_one_mission, patch_mission]


_SALARY_SPECS, _ = declared(Salary)
ENUMS: dict[str, Choice] = {
    "MissionStatus": MISSIONS.specs["status"].check,
    "ContractType": MISSIONS.specs["contract_type"].check,
    "RemotePolicy": MISSIONS.specs["remote_policy"].check,
    "SalaryPeriod": _SALARY_SPECS["period"].check,
}


def _schemas(names: Mapping[Any, str]) -> dict[str, Any]:
    creatable = {name: spec for name, spec in MISSIONS.specs.items() if name != "status"}
    return {
        "Mission": struct_schema(Mission, names),
        "MissionCreate": spec_schema(creatable, required=True, names=names),
        "MissionPatch": spec_schema(MISSIONS.specs, required=False, names=names),
        "MissionPage": page_schema(MissionPage, "Mission"),
        "Salary": struct_schema(Salary, names),
        **{name: check.schema() | {"title": name} for name, check in ENUMS.items()},
    }


DOCUMENT = Section(
    named={check: name for name, check in ENUMS.items()} | {Salary: "Salary"},
    schemas=_schemas,
    bodies={
        ("post", "/missions"): "MissionCreate",
        ("patch", "/missions/{mission_id}"): "MissionPatch",
    },
    lists={
        "/missions": {
            "company_id": (TEXT_FILTER, "Only this company's missions."),
            "status": (ref("MissionStatus"), "Only missions in this status."),
        }
    },
    forbidden=[("patch", "/missions/{mission_id}")],
)

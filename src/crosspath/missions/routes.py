"""The missions' routes: parse, call one service function, answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, RawBody

from crosspath import keyed
from crosspath.api import answers, idempotency
from crosspath.api.deps import CallerDep, EngineDep, json_object, list_query, path_tail
from crosspath.api.openapi import Section
from crosspath.api.schemas import (
    TEXT_FILTER,
    batch_item,
    batch_result_schema,
    batch_schema,
    page_schema,
    ref,
    written_schema,
)
from crosspath.fields import Choice, Line, Spec
from crosspath.missions import service
from crosspath.missions.schema import FILTERS, MISSIONS, Mission, MissionPage, Salary
from crosspath.records import declared, not_both, one_of_required, spec_schema, struct_schema
from crosspath.store.idempotency import Outcome
from crosspath.store.transaction import read, write

COLLECTION = "/missions"


@post("/missions", status_code=201, tags=["Missions"], summary="Open a mission")
async def post_mission(
    request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, engine: EngineDep
) -> Response[Mission]:
    """Open a mission (a JD) for one of your companies (`company_id`, or your
    `company_external_id`). It starts `private` until CrossPath reviews it and makes it `live`.
    Send an `Idempotency-Key` to retry safely."""
    data = json_object(request, body)
    parsed = service.parse(data, creating=True)

    def create(conn: Any) -> Outcome:
        mission = service.create_mission(conn, caller.partner_id, parsed)
        location = answers.location_of(request, COLLECTION, mission.id)
        return Outcome(201, msgspec.json.encode(mission), location)

    return await idempotency.run(request, engine, caller, data, create)


@post("/missions/batch", status_code=200, tags=["Missions"], summary="Create or replace missions")
async def post_missions_batch(
    request: Request[Any, Any, Any], body: RawBody, caller: CallerDep, engine: EngineDep
) -> Response[Any]:
    """Up to 100 missions keyed by your `external_id`, each applied as `PUT
    /missions/by-external-id/{external_id}` would, independently; the results are in the order
    of the items."""
    data = json_object(request, body)
    items = [
        (external_id, service.parse_put(item, external_id))
        for external_id, item in keyed.batch_items(data)
    ]

    def apply(conn: Any) -> Outcome:
        results = service.put_missions(conn, caller.partner_id, items)
        return Outcome(200, msgspec.json.encode(results))

    return await idempotency.run(request, engine, caller, data, apply)


@get("/missions", tags=["Missions"], summary="List your missions")
async def get_missions(
    request: Request[Any, Any, Any], caller: CallerDep, engine: EngineDep
) -> MissionPage:
    """Your missions, oldest first, one page at a time."""
    query = list_query(request, MISSIONS.id_prefix, FILTERS)
    return await read(engine, service.list_missions, caller.partner_id, query)


@get("/missions/{mission_id:str}", tags=["Missions"], summary="Get a mission")
async def get_one_mission(
    request: Request[Any, Any, Any], mission_id: FromPath[str], caller: CallerDep, engine: EngineDep
) -> Response[Mission]:
    """One of your missions, with its `ETag` (send it as `If-None-Match` to get 304 while it
    has not changed)."""
    mission = await read(engine, service.get_mission, caller.partner_id, mission_id)
    return answers.record(request, mission)


@patch("/missions/{mission_id:str}", tags=["Missions"], summary="Update a mission")
async def patch_mission(
    request: Request[Any, Any, Any],
    mission_id: FromPath[str],
    body: RawBody,
    caller: CallerDep,
    engine: EngineDep,
) -> Response[Mission]:
    """Keep a JD in sync (JSON merge patch). Every field stays editable in every status; `status`
    itself may only go from `live` to `closed`. With `If-Match`, only if it has not changed
    since."""
    parsed = service.parse(json_object(request, body, patch=True), creating=False)
    if_match = request.headers.get("if-match")
    mission = await write(
        engine, service.update_mission, caller.partner_id, mission_id, parsed, if_match
    )
    return answers.record(request, mission)


@put(
    "/missions/by-external-id/{external_id:path}",
    tags=["Missions"],
    summary="Create or replace a mission by your id",
)
async def put_mission(
    request: Request[Any, Any, Any],
    external_id: FromPath[str],
    body: RawBody,
    caller: CallerDep,
    engine: EngineDep,
) -> Response[Mission]:
    """Make your mission with this `external_id` (percent-encoded in the path) look like the
    body: created (201, `private`) when you have none, else replaced (200). Fields left out are
    reset to their defaults; `status` left out is kept."""
    key = keyed.path_external_id(path_tail(request, "/by-external-id/", external_id))
    parsed = service.parse_put(json_object(request, body), key)
    if_match = request.headers.get("if-match")
    written = await write(engine, service.put_mission, caller.partner_id, key, parsed, if_match)
    return answers.put(request, written, COLLECTION)


@delete(
    "/missions/{mission_id:str}", status_code=204, tags=["Missions"], summary="Delete a mission"
)
async def delete_mission(
    request: Request[Any, Any, Any], mission_id: FromPath[str], caller: CallerDep, engine: EngineDep
) -> None:
    """Take down a JD that CrossPath has not published (`private`); its `external_id` is free
    again. A live mission is closed instead (PATCH `status` to `closed`)."""
    if_match = request.headers.get("if-match")
    await write(engine, service.delete_mission, caller.partner_id, mission_id, if_match)


ROUTES = [
    post_mission,
    post_missions_batch,
    get_missions,
    get_one_mission,
    patch_mission,
    put_mission,
    delete_mission,
]


_SALARY_SPECS, _ = declared(Salary)
ENUMS: dict[str, Choice] = {
    "MissionStatus": MISSIONS.specs["status"].check,
    "ContractType": MISSIONS.specs["contract_type"].check,
    "RemotePolicy": MISSIONS.specs["remote_policy"].check,
    "SalaryPeriod": _SALARY_SPECS["period"].check,
}


COMPANY_EXTERNAL_ID = Spec(
    Line(100),
    description="Instead of `company_id`: your own `external_id` of one of your companies.",
    example="c-42",
)
COMPANY_KEYS = ("company_id", "company_external_id")


def _schemas(names: Mapping[Any, str]) -> dict[str, Any]:
    creatable = {name: spec for name, spec in MISSIONS.specs.items() if name != "status"}
    full = MISSIONS.specs | {"company_external_id": COMPANY_EXTERNAL_ID}
    put = one_of_required(spec_schema(full, required=True, names=names), COMPANY_KEYS)
    put["properties"]["status"].pop("default", None)  # left out, a replaced mission's is kept
    creatable |= {"company_external_id": COMPANY_EXTERNAL_ID}
    return {
        "Mission": struct_schema(Mission, names),
        "MissionCreate": one_of_required(
            spec_schema(creatable, required=True, names=names), COMPANY_KEYS
        ),
        "MissionPatch": not_both(spec_schema(full, required=False, names=names), COMPANY_KEYS),
        "MissionPage": page_schema(MissionPage, "Mission"),
        "MissionPut": put | {"description": f"{PUT_BODY} {put['description']}"},
        "MissionBatchItem": batch_item(put),
        "MissionBatch": batch_schema("MissionBatchItem"),
        "MissionWritten": written_schema("mission", "Mission"),
        "MissionBatchResult": batch_result_schema("MissionWritten"),
        "Salary": struct_schema(Salary, names),
        **{name: check.schema() | {"title": name} for name, check in ENUMS.items()},
    }


PUT_BODY = (
    "The whole mission: what is left out is reset to its default (`status` left out is kept); "
    "an `external_id`, if sent, must be the path's. `status` may be `private` on a create, and "
    "follows the PATCH rule on a replacement."
)
DOCUMENT = Section(
    named={check: name for name, check in ENUMS.items()} | {Salary: "Salary"},
    schemas=_schemas,
    bodies={
        ("post", "/missions"): "MissionCreate",
        ("patch", "/missions/{mission_id}"): "MissionPatch",
        ("put", "/missions/by-external-id/{external_id}"): "MissionPut",
        ("post", "/missions/batch"): "MissionBatch",
    },
    responses={("post", "/missions/batch"): "MissionBatchResult"},
    lists={
        "/missions": {
            "company_id": (TEXT_FILTER, "Only this company's missions."),
            "status": (ref("MissionStatus"), "Only missions in this status."),
        }
    },
    forbidden=[
        ("patch", "/missions/{mission_id}"),
        ("put", "/missions/by-external-id/{external_id}"),
    ],
    untagged=[("post", "/missions/batch")],
    conflicts={("delete", "/missions/{mission_id}"): service.ONLY_PRIVATE_DELETED},
)

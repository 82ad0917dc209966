"""The reference values' routes. Each answer is a whole current set: they are not paged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.params import FromPath

from crosspath.api import answers
from crosspath.api.deps import EngineDep, no_query
from crosspath.api.openapi import Section
from crosspath.api.schemas import ref
from crosspath.errors import NotFound
from crosspath.fields import Choice
from crosspath.references import service
from crosspath.references.schema import KINDS, ReferenceItem
from crosspath.store.transaction import read_many


class ReferencePage(msgspec.Struct):
    data: list[ReferenceItem]


@get("/references", tags=["References"], summary="All reference values")
async def get_references(
    request: Request[Any, Any, Any], engine: EngineDep
) -> Response[dict[str, list[ReferenceItem]]]:
    """Every accepted reference value, by kind: the codes to send in companies and missions.
    The answer is the whole set (not paged); cache it, and ask again with `If-None-Match`."""
    no_query(request)
    return answers.cacheable(request, await read_many(engine, service.all_current))


@get("/references/{kind:str}", tags=["References"], summary="One reference set")
async def get_reference_kind(
    request: Request[Any, Any, Any], kind: FromPath[str], engine: EngineDep
) -> Response[ReferencePage]:
    """The accepted values of one kind: sectors, locations, languages, positions or
    company_sizes. The answer is the whole set (not paged); cache it, and ask again with
    `If-None-Match`."""
    if kind not in KINDS:
        raise NotFound(
            f"There is no reference set named {kind!r}; the sets are: {', '.join(KINDS)}."
        )
    no_query(request)
    data = await read_many(engine, service.current, kind)
    return answers.cacheable(request, ReferencePage(data=data))


ROUTES = [get_references, get_reference_kind]


def _schemas(names: Mapping[Any, str]) -> dict[str, Any]:
    return {
        "ReferenceKind": Choice(KINDS).schema() | {"title": "ReferenceKind"},
        "ReferenceItem": msgspec.json.schema_components([ReferenceItem])[1]["ReferenceItem"],
        "ReferenceSet": {
            "type": "object",
            "title": "ReferenceSet",
            "properties": {"data": {"type": "array", "items": ref("ReferenceItem")}},
            "required": ["data"],
            "additionalProperties": False,
        },
        "References": {
            "type": "object",
            "title": "References",
            "description": "Every current reference value, by kind.",
            "properties": {
                kind: {"type": "array", "items": ref("ReferenceItem")} for kind in KINDS
            },
            "required": list(KINDS),
            "additionalProperties": False,
        },
    }


DOCUMENT = Section(
    schemas=_schemas,
    responses={("get", "/references"): "References", ("get", "/references/{kind}"): "ReferenceSet"},
    path_parameters={"kind": "ReferenceKind"},
    cacheable=["/references", "/references/{kind}"],
)

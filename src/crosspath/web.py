"""Request plumbing shared by the partner routes: the caller, the JSON body, timestamps."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import RawBody
from sqlalchemy import Engine

from crosspath.auth import Caller
from crosspath.errors import BadRequest, UnsupportedMediaType

JSON_TYPES = ("application/json", "application/merge-patch+json")
_decoder = msgspec.json.Decoder()


CallerDep = NamedDependency[Caller]
EngineDep = NamedDependency[Engine]


def provide_caller(request: Request[Any, Any, Any], engine: EngineDep) -> Caller:
    # `engine` is not used: asking for it resolves the two dependencies one after the other.
    # Side by side, Litestar resolves them in an anyio task group, which costs more per request
    # than everything else it does for a route (measured with bench/).
    caller: Caller = request.scope["state"]["caller"]
    return caller


def provide_engine(state: State) -> Engine:
    engine: Engine = state.engine
    return engine


def json_object(
    request: Request[Any, Any, Any], body: RawBody, *, patch: bool = False
) -> dict[str, Any]:
    """The request body as a JSON object, after the content-type and syntax checks."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (JSON_TYPES if patch else JSON_TYPES[:1]):
        raise UnsupportedMediaType("Content-Type must be application/json.")
    try:
        data = _decoder.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):  # msgspec raises the latter on bad UTF-8
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with microseconds, e.g. 2026-11-28T12:30:00.123456Z."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


Timestamp = Annotated[
    str,
    msgspec.Meta(
        extra_json_schema={"format": "date-time", "example": "2026-11-28T12:30:00.123456Z"}
    ),
]

"""What the partner routes take from a request: the caller, the engine, the body, the query."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from sqlalchemy import Engine

from crosspath.caller import Caller
from crosspath.errors import BadRequest, FieldErrors, UnsupportedMediaType
from crosspath.paging import ListQuery, parse_list_query
from crosspath.settings import Settings

JSON_TYPES = ("application/json", "application/merge-patch+json")
MAX_DEPTH = 64  # nesting of a JSON body; far more than any record needs
_decoder = msgspec.json.Decoder()
# Every byte but those that open, close or escape: what the depth scan needs to look at.
_NOT_STRUCTURE = bytes(set(range(256)) - set(b'[]{}"\\'))

CallerDep = NamedDependency[Caller]
EngineDep = NamedDependency[Engine]
SettingsDep = NamedDependency[Settings]


def provide_caller(request: Request[Any, Any, Any], engine: EngineDep) -> Caller:
    # `engine` is not used: asking for it resolves the two dependencies one after the other.
    # Side by side, Litestar resolves them in an anyio task group, which costs more per request
    # than everything else it does for a route (measured with bench/).
    caller: Caller = request.scope["state"]["caller"]
    return caller


def provide_engine(state: State) -> Engine:
    engine: Engine = state.engine
    return engine


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings


def json_object(
    request: Request[Any, Any, Any], body: bytes, *, patch: bool = False
) -> dict[str, Any]:
    """The request body as a JSON object, after the content-type and syntax checks."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (JSON_TYPES if patch else JSON_TYPES[:1]):
        raise UnsupportedMediaType("Content-Type must be application/json.")
    return decode_object(body)


def decode_object(body: bytes) -> dict[str, Any]:
    if _too_deep(body):
        raise BadRequest(f"The request body is nested more than {MAX_DEPTH} levels deep.")
    try:
        data = _decoder.decode(body)
    except RecursionError:
        raise BadRequest(f"The request body is nested more than {MAX_DEPTH} levels deep.") from None
    except (msgspec.DecodeError, UnicodeDecodeError):  # msgspec raises the latter on bad UTF-8
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    return data


def _too_deep(body: bytes) -> bool:
    """Whether brackets outside strings nest deeper than MAX_DEPTH (the decoder would recurse
    until Python's own limit, a 500)."""
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in body.translate(None, _NOT_STRUCTURE):
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def list_query(
    request: Request[Any, Any, Any], id_prefix: str, filters: Mapping[str, Callable[[str], Any]]
) -> ListQuery:
    return parse_list_query(list(request.query_params.multi_items()), id_prefix, filters)


def no_query(request: Request[Any, Any, Any]) -> None:
    """A route that takes no query parameter refuses any, by name."""
    names = list(dict.fromkeys(name for name, _ in request.query_params.multi_items()))
    if names:
        raise FieldErrors([f"{name} is not a known query parameter" for name in names])


def path_tail(request: Request[Any, Any, Any], marker: str, routed: str) -> str:
    """What follows `marker` in the path as the client sent it, percent-decoded once.

    The router's own path parameter has `//` collapsed and a leading or trailing `/` dropped,
    which would change an external id such as `/a`, `a/` or `a//b`; the raw path keeps them.
    """
    raw = request.scope.get("raw_path")
    if not raw:
        return routed.removeprefix("/")
    path = bytes(raw).decode("latin-1").split("?", 1)[0]
    index = path.find(marker)
    if index < 0:
        return routed.removeprefix("/")
    try:
        return unquote(path[index + len(marker) :], errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("The path must be UTF-8 once percent-decoded.") from None

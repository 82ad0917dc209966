"""The OpenAPI 3.1 document and its docs page, served by the service itself (no CDN)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get
from litestar.openapi.plugins import OpenAPIRenderPlugin

from crosspath.api.schemas import (
    BATCH_ITEM_ERROR,
    BATCH_SUMMARY,
    EXTERNAL_ID_PATH,
    TEXT_FILTER,
    ref,
)

BASE = "/partners/v1"
ALIAS = "/partners/hunteron/v1"
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string", "description": "A sentence your users can read."}},
    "required": ["error"],
    "additionalProperties": False,
}
_ERRORS = {
    "400": "The request is malformed or a field is wrong; the message names every such field.",
    "401": "Please provide your API key.",
    "403": "You can't update the status of a JD that is not Live.",
    "404": "The record does not exist or is not yours.",
    "409": "external_id is already used by another of your records.",
    "410": "The cursor is older than the events kept; the message says how to catch up.",
    "412": "The record has changed since the version named by If-Match; nothing was changed.",
    "413": "The request body is larger than 1 MiB.",
    "415": "Content-Type must be application/json.",
    "422": "This Idempotency-Key was already used for a different request (another path or body).",
    "429": "Too many requests for this API key; see Retry-After.",
    "503": "The database is unreachable for a moment; retry after Retry-After seconds.",
}


@dataclass(frozen=True)
class Section:
    """What one feature adds to the document, declared beside its routes.

    Paths are relative to the base path. `named` lists what other schemas refer to by name
    (an enum's checker, a nested Struct); `schemas` builds the feature's named schemas, given
    every section's names, from the declarations they describe.
    """

    named: Mapping[Any, str] = field(default_factory=dict)
    schemas: Callable[[Mapping[Any, str]], dict[str, Any]] = lambda _names: {}
    bodies: Mapping[tuple[str, str], str] = field(default_factory=dict)
    responses: Mapping[tuple[str, str], str] = field(default_factory=dict)
    lists: Mapping[str, Mapping[str, tuple[dict[str, Any], str]]] = field(default_factory=dict)
    # GETs with query parameters of their own (not a list's), answered without an ETag.
    queries: Mapping[str, Mapping[str, tuple[dict[str, Any], str]]] = field(default_factory=dict)
    # Operations that answer 410 for a cursor that has expired.
    gone: Sequence[tuple[str, str]] = ()
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    forbidden: Sequence[tuple[str, str]] = ()
    # The operations that answer something other than one record (no ETag): batches.
    untagged: Sequence[tuple[str, str]] = ()
    # GETs whose answer a client may cache (Cache-Control, gzip).
    cacheable: Sequence[str] = ()
    # Why a write may answer 409, by operation, when it is not a taken external_id.
    conflicts: Mapping[tuple[str, str], str] = field(default_factory=dict)


LIST_QUERY: dict[str, tuple[dict[str, Any], str]] = {
    "limit": ({"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size."),
    "cursor": (
        {"type": "string", "minLength": 1},
        "The `next_cursor` of the previous page; send the same filters with it.",
    ),
    "external_id": (TEXT_FILTER, "Only the record with this id of yours."),
    "updated_since": (
        {"type": "string", "format": "date-time"},
        "RFC 3339 timestamp with an offset: only records updated at or after it.",
    ),
}
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-Id": {
        "description": "This request's id (yours, if you sent a valid one); quote it to support.",
        "required": True,
        "schema": {"type": "string"},
    },
    "RateLimit-Limit": {
        "description": "Requests allowed to this API key in the window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Remaining": {
        "description": "Requests left to this API key in the current window.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the window resets.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Location": {
        "description": "The new record's path, under the base path the call used.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "description": "Whole seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "ETag": {
        "description": "The version of this answer: a strong digest of its bytes, changed whenever "
        "the record is. Send it back as `If-None-Match` on a GET (304 while unchanged) or as "
        "`If-Match` on a PATCH, PUT or DELETE (412 if it changed since).",
        "required": True,
        "schema": {"type": "string", "examples": ['"q5XoVb2X6m1n6LzYv1bQ"']},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer of an earlier request with the same "
        "Idempotency-Key: nothing was written this time.",
        "schema": {"type": "string", "enum": ["true"]},
    },
    "Cache-Control": {
        "description": "How long you may reuse this answer without asking again.",
        "required": True,
        "schema": {"type": "string", "examples": ["private, max-age=300"]},
    },
    "Content-Encoding": {
        "description": "`gzip` when you sent `Accept-Encoding: gzip`.",
        "schema": {"type": "string", "enum": ["gzip"]},
    },
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique value of yours (a UUID): a retry with the same key, path and body "
    "gets the first answer again and writes nothing. Kept at least 24 hours.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The record's ETag as you last read it (or `*`): the write happens only if "
    "the record has not changed since, else 412 and nothing changes.",
    "schema": {"type": "string", "minLength": 1},
}
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the copy you have: 304 with no body while it is current.",
    "schema": {"type": "string", "minLength": 1},
}
NOT_MODIFIED = "Not modified: the copy named by If-None-Match is current."
_RATE_LIMIT = ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]
DESCRIPTION = f"""\
Create the companies you recruit for, open recruitment missions (job descriptions) for them,
and keep every JD in sync as it changes on your side.

* Authenticate every call with `Authorization: Apikey Recruitment-…` (`Bearer` works too).
* Base path `{BASE}`; `{ALIAS}` is an alias with identical behaviour: every
  operation under `{BASE}` is served the same under `{ALIAS}` (see `x-base-path-aliases`).
* Every error is `{{"error": "<message>"}}`, a sentence you can show your users as it is.
* A new mission is `private` until CrossPath reviews it and makes it `live`; you may then
  close it. Every other field stays editable in every status.
* Lists are paged with `limit` and `cursor`, oldest first.
"""


def complete(doc: dict[str, Any], sections: Sequence[Section]) -> dict[str, Any]:
    """Add what Litestar cannot infer: named schemas from the declarations, request bodies,
    error responses, headers, the key scheme and the alias base path."""
    section = _merged(sections)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("ReferencePage", None)
    for part in sections:
        schemas |= part.schemas(section.named)
    schemas["Error"] = ERROR_SCHEMA
    schemas["BatchSummary"] = BATCH_SUMMARY
    schemas["BatchItemError"] = BATCH_ITEM_ERROR
    components["headers"] = HEADERS
    components["securitySchemes"] = {
        "Apikey": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Apikey Recruitment-` followed by your 32-character key.",
        }
    }
    doc["x-base-path-aliases"] = {ALIAS: BASE}
    for path, item in doc.get("paths", {}).items():
        partner = path.startswith(f"{BASE}/")
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if partner:
                _describe_partner_operation(method, path.removeprefix(BASE), operation, section)
            elif path == "/readyz":
                operation["responses"]["503"] = _error_response("503")
            _describe_headers(operation, partner)
    return doc


def _header(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _describe_headers(operation: dict[str, Any], partner: bool) -> None:
    for code, response in operation["responses"].items():
        names = ["X-Request-Id"]
        if partner:
            names += _RATE_LIMIT
        if code == "201":
            names.append("Location")
        if code in ("429", "503"):
            names.append("Retry-After")
        names += response.pop("x-headers", [])
        response["headers"] = {name: _header(name) for name in names}


def _error_response(code: str, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or _ERRORS[code],
        "content": {"application/json": {"schema": ref("Error")}},
    }


def _merged(sections: Sequence[Section]) -> Section:
    return Section(
        named={k: v for part in sections for k, v in part.named.items()},
        bodies={k: v for part in sections for k, v in part.bodies.items()},
        responses={k: v for part in sections for k, v in part.responses.items()},
        lists={k: v for part in sections for k, v in part.lists.items()},
        queries={k: v for part in sections for k, v in part.queries.items()},
        gone=[pair for part in sections for pair in part.gone],
        path_parameters={k: v for part in sections for k, v in part.path_parameters.items()},
        forbidden=[pair for part in sections for pair in part.forbidden],
        untagged=[pair for part in sections for pair in part.untagged],
        cacheable=[path for part in sections for path in part.cacheable],
        conflicts={k: v for part in sections for k, v in part.conflicts.items()},
    )


def _describe_partner_operation(
    method: str, path: str, operation: dict[str, Any], section: Section
) -> None:
    operation["security"] = [{"Apikey": []}]
    codes = ["401", "429", "503"]
    described: dict[str, str] = {}
    body = section.bodies.get((method, path))
    if body is not None:
        types = ["application/json"]
        if method == "patch":
            types.append("application/merge-patch+json")
        operation["requestBody"] = {
            "required": True,
            "content": {media_type: {"schema": ref(body)} for media_type in types},
        }
        codes += ["400", "409", "413", "415"]
    if "{" in path and method != "put":  # a PUT by external id creates what is missing
        codes.append("404")
    parameters = operation.setdefault("parameters", [])
    for parameter in parameters:
        if (named := section.path_parameters.get(parameter["name"])) is not None:
            parameter["schema"] = ref(named)
        elif parameter["name"] == "external_id":
            parameter["schema"] = EXTERNAL_ID_PATH
            parameter["description"] = "Your id of the record, percent-encoded (`/` too)."
    listed = method == "get" and (path in section.lists or path in section.queries)
    if listed:
        own = section.queries.get(path)
        query = dict(own) if own is not None else LIST_QUERY | dict(section.lists[path])
        operation["parameters"] = parameters = [
            parameter for parameter in parameters if parameter["in"] == "path"
        ] + [
            {"name": name, "in": "query", "required": False, "schema": schema, "description": text}
            for name, (schema, text) in query.items()
        ]
        codes.append("400")
    if (method, path) in section.forbidden:
        codes.append("403")
    if (method, path) in section.gone:
        codes.append("410")
    responses = operation["responses"]
    if (named := section.responses.get((method, path))) is not None:
        responses["200"]["content"]["application/json"]["schema"] = ref(named)
    tagged = (method, path) not in section.untagged and not listed
    if method == "post":
        parameters.append(IDEMPOTENCY_KEY)
        codes += ["400", "409", "422"]
        described["400"] = (
            _ERRORS["400"] + " Or Idempotency-Key is not 1 to 255 printable ASCII characters."
        )
        running = "a request with this Idempotency-Key is still running: retry in a moment."
        described["409"] = (
            f"{_ERRORS['409']} Or {running}" if tagged else running[0].upper() + running[1:]
        )
    if method in ("patch", "put", "delete"):
        parameters.append(IF_MATCH)
        codes.append("412")
    if method == "put":
        record = responses.pop("200")
        responses["200"] = record | {"description": "Replaced (or already as sent)."}
        responses["201"] = record | {"description": "Created: you had no record with this id."}
        codes += ["400", "413", "415"]
    if method == "get" and not listed:
        parameters.append(IF_NONE_MATCH)
        cached = ["ETag", "Cache-Control"] if path in section.cacheable else ["ETag"]
        responses["304"] = {"description": NOT_MODIFIED, "x-headers": cached}
    if (conflict := section.conflicts.get((method, path))) is not None:
        codes.append("409")
        described["409"] = conflict
    for code, response in responses.items():
        if not "200" <= code < "300" or code == "204":
            continue
        names = ["ETag"] if tagged else []
        if method == "post":
            names.append("Idempotent-Replayed")
        if path in section.cacheable:
            names += ["Cache-Control", "Content-Encoding"]
        response["x-headers"] = names
    if not parameters:
        operation.pop("parameters")
    # Every error is {"error": ...}: Litestar's own error entries (its 400 for any operation
    # with parameters, with a body it never sends here) give way to the ones that can happen.
    kept = {code: value for code, value in responses.items() if code < "400"}
    kept |= {code: _error_response(code, described.get(code)) for code in sorted(set(codes))}
    operation["responses"] = dict(sorted(kept.items()))


class DocumentPlugin(OpenAPIRenderPlugin):
    """Serves the document at /openapi.json, completed with what the routes cannot declare."""

    def __init__(self, sections: Sequence[Section]) -> None:
        super().__init__(path="/", media_type=MediaType.JSON)
        self.sections = sections
        self._encoded: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._encoded is None:
            self._encoded = msgspec.json.encode(complete(openapi_schema, self.sections))
        return self._encoded


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>CrossPath Recruitment API reference</title>
  <link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
</head>
<body>
  <noscript>This reference needs JavaScript; the raw document is at
    <a href="/openapi.json">/openapi.json</a>.</noscript>
  <div id="reference"></div>
  <script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="/static/swagger-ui/init.js"></script>
</body>
</html>
"""


@get("/docs", include_in_schema=False, media_type=MediaType.HTML, sync_to_thread=False)
def docs_page() -> Response[str]:
    return Response(DOCS_PAGE, media_type=MediaType.HTML)

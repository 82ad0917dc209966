"""The OpenAPI 3.1 document and its docs page, served by the service itself (no CDN)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get
from litestar.openapi.plugins import OpenAPIRenderPlugin

from crosspath.fields import Line

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
    "413": "The request body is larger than 1 MiB.",
    "415": "Content-Type must be application/json.",
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
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    forbidden: Sequence[tuple[str, str]] = ()


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def page_schema(struct: type[msgspec.Struct], item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "title": struct.__name__,
        "properties": {
            "data": {"type": "array", "items": ref(item)},
            "next_cursor": {
                "type": ["string", "null"],
                "minLength": 1,
                "description": "Send it as `cursor` for the next page; null on the last page.",
            },
        },
        "required": ["data", "next_cursor"],
        "additionalProperties": False,
    }


_LINE = Line(100).schema()["pattern"]
TEXT_FILTER = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": _LINE}
# The query parameters of every list; a section adds its own filters.
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
}
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
        response["headers"] = {name: _header(name) for name in names}


def _error_response(code: str) -> dict[str, Any]:
    return {
        "description": _ERRORS[code],
        "content": {"application/json": {"schema": ref("Error")}},
    }


def _merged(sections: Sequence[Section]) -> Section:
    return Section(
        named={k: v for part in sections for k, v in part.named.items()},
        bodies={k: v for part in sections for k, v in part.bodies.items()},
        responses={k: v for part in sections for k, v in part.responses.items()},
        lists={k: v for part in sections for k, v in part.lists.items()},
        path_parameters={k: v for part in sections for k, v in part.path_parameters.items()},
        forbidden=[pair for part in sections for pair in part.forbidden],
    )


def _describe_partner_operation(
    method: str, path: str, operation: dict[str, Any], section: Section
) -> None:
    operation["security"] = [{"Apikey": []}]
    codes = ["401", "429", "503"]
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
    if "{" in path:
        codes.append("404")
    for parameter in operation.get("parameters", []):
        if (named := section.path_parameters.get(parameter["name"])) is not None:
            parameter["schema"] = ref(named)
    if method == "get" and path in section.lists:
        query = LIST_QUERY | dict(section.lists[path])
        operation["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": schema, "description": text}
            for name, (schema, text) in query.items()
        ]
        codes.append("400")
    if (method, path) in section.forbidden:
        codes.append("403")
    if (named := section.responses.get((method, path))) is not None:
        operation["responses"]["200"]["content"]["application/json"]["schema"] = ref(named)
    # Every error is {"error": ...}: Litestar's own error entries (its 400 for any operation
    # with parameters, with a body it never sends here) give way to the ones that can happen.
    responses = {code: value for code, value in operation["responses"].items() if code < "400"}
    responses |= {code: _error_response(code) for code in sorted(set(codes))}
    operation["responses"] = responses


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

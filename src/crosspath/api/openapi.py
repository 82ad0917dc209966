"""The OpenAPI 3.1 document and its docs page, served by the service itself (no CDN)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Request, Response, get
from litestar.openapi.plugins import OpenAPIRenderPlugin

from crosspath.companies.schema import COMPANIES
from crosspath.companies.schema import FILTERS as COMPANY_FILTERS
from crosspath.missions.schema import FILTERS as MISSION_FILTERS
from crosspath.missions.schema import MISSIONS, STATUSES
from crosspath.records import spec_schema
from crosspath.references.schema import KINDS

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
_BODIES = {
    ("post", "/partners/v1/companies"): spec_schema(COMPANIES.specs, required=True),
    ("patch", "/partners/v1/companies/{company_id}"): spec_schema(COMPANIES.specs, required=False),
    ("post", "/partners/v1/missions"): spec_schema(
        {k: v for k, v in MISSIONS.specs.items() if k != "status"}, required=True
    ),
    ("patch", "/partners/v1/missions/{mission_id}"): spec_schema(MISSIONS.specs, required=False),
}
_QUERY: dict[str, tuple[dict[str, Any], str]] = {
    "limit": ({"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Page size."),
    "cursor": (
        {"type": "string"},
        "The `next_cursor` of the previous page; send the same filters with it.",
    ),
    "external_id": ({"type": "string", "maxLength": 100}, "Only the record with this id of yours."),
    "updated_since": (
        {"type": "string", "format": "date-time"},
        "RFC 3339 timestamp with an offset: only records updated at or after it.",
    ),
    "company_id": ({"type": "string"}, "Only this company's missions."),
    "status": (
        {"type": "string", "enum": list(STATUSES)},
        "Only missions in this status.",
    ),
}
_LISTS = {
    "/partners/v1/companies": ["limit", "cursor", *COMPANY_FILTERS],
    "/partners/v1/missions": ["limit", "cursor", *MISSION_FILTERS],
}
DESCRIPTION = """\
Create the companies you recruit for, open recruitment missions (job descriptions) for them,
and keep every JD in sync as it changes on your side.

* Authenticate every call with `Authorization: Apikey Recruitment-…` (`Bearer` works too).
* Base path `/partners/v1`; `/partners/hunteron/v1` is an alias with identical behaviour.
* Every error is `{"error": "<message>"}`, a sentence you can show your users as it is.
* A new mission is `private` until CrossPath reviews it and makes it `live`; you may then
  close it. Every other field stays editable in every status.
* Lists are paged with `limit` and `cursor`, oldest first.
"""


def complete(doc: dict[str, Any]) -> dict[str, Any]:
    """Add what Litestar cannot infer: request bodies, error responses, the key scheme."""
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["securitySchemes"] = {
        "Apikey": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Apikey Recruitment-` followed by your 32-character key.",
        }
    }
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if path.startswith("/partners/"):
                _describe_partner_operation(method, path, operation)
    if "/readyz" in doc.get("paths", {}):
        doc["paths"]["/readyz"]["get"]["responses"]["503"] = _error_response("503")
    return doc


def _error_response(code: str) -> dict[str, Any]:
    return {
        "description": _ERRORS[code],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _describe_partner_operation(method: str, path: str, operation: dict[str, Any]) -> None:
    operation["security"] = [{"Apikey": []}]
    codes = ["401", "429", "503"]
    body = _BODIES.get((method, path))
    if body is not None:
        types = ["application/json"]
        if method == "patch":
            types.append("application/merge-patch+json")
        operation["requestBody"] = {
            "required": True,
            "content": {media_type: {"schema": body} for media_type in types},
        }
        codes += ["400", "409", "413", "415"]
    if "{" in path:
        codes.append("404")
    for parameter in operation.get("parameters", []):
        if parameter["name"] == "kind":
            parameter["schema"] = {"type": "string", "enum": list(KINDS)}
    if method == "get" and path in _LISTS:
        operation["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": schema, "description": text}
            for name in _LISTS[path]
            for schema, text in [_QUERY[name]]
        ]
        codes.append("400")
    if (method, path) == ("patch", "/partners/v1/missions/{mission_id}"):
        codes.append("403")
    # Every error is {"error": ...}: Litestar's own error entries (its 400 for any operation
    # with parameters, with a body it never sends here) give way to the ones that can happen.
    responses = {code: value for code, value in operation["responses"].items() if code < "400"}
    responses |= {code: _error_response(code) for code in sorted(set(codes))}
    operation["responses"] = responses


class DocumentPlugin(OpenAPIRenderPlugin):
    """Serves the document at /openapi.json, completed with what the routes cannot declare."""

    def __init__(self) -> None:
        super().__init__(path="/", media_type=MediaType.JSON)
        self._encoded: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._encoded is None:
            self._encoded = msgspec.json.encode(complete(openapi_schema))
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

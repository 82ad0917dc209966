"""How the partner routes answer a record: its JSON with its ETag, or 304 when unchanged.

The answers are encoded here (a record's ETag is the digest of its bytes); they are typed
`Response[Any]` so that each route still declares the record it answers, for the document.
"""

from __future__ import annotations

import gzip
from collections import OrderedDict
from typing import Any

import msgspec
from litestar import MediaType, Request, Response

from crosspath import etags
from crosspath.keyed import Written


def record(
    request: Request[Any, Any, Any],
    value: Any,
    *,
    status_code: int = 200,
    location: str | None = None,
) -> Response[Any]:
    """One record, with the ETag of what it is now; a GET whose If-None-Match names that
    version gets 304 and no body."""
    return encoded(request, msgspec.json.encode(value), status_code=status_code, location=location)


def encoded(
    request: Request[Any, Any, Any],
    body: bytes,
    *,
    status_code: int = 200,
    location: str | None = None,
    headers: dict[str, str] | None = None,
    etag: bool = True,
) -> Response[Any]:
    tag = etags.of_bytes(body)
    extra = ({"ETag": tag} if etag else {}) | (headers or {})
    if location is not None:
        extra["Location"] = location
    if (
        etag
        and request.method == "GET"
        and etags.matches_none(request.headers.get("if-none-match"), tag)
    ):
        return Response(b"", status_code=304, headers=extra)
    return Response(body, status_code=status_code, media_type=MediaType.JSON, headers=extra)


def location_of(request: Request[Any, Any, Any], collection: str, record_id: str) -> str:
    """The path of a new record under the base path this call used."""
    path = request.url.path
    base = path[: path.index(collection)] if collection in path else ""
    return f"{base}{collection}/{record_id}"


REFERENCE_MAX_AGE = 300  # seconds a client may reuse the reference sets without asking
_GZIPPED: OrderedDict[str, bytes] = OrderedDict()  # by ETag, the few sets last compressed


def cacheable(request: Request[Any, Any, Any], value: Any) -> Response[Any]:
    """A whole set a client may cache: ETag and 304, `Cache-Control: private`, and gzip when
    the client accepts it (a reference set is hundreds of kilobytes of JSON)."""
    body = msgspec.json.encode(value)
    tag = etags.of_bytes(body)
    headers = {
        "ETag": tag,
        "Cache-Control": f"private, max-age={REFERENCE_MAX_AGE}",
        "Vary": "Accept-Encoding",
    }
    if etags.matches_none(request.headers.get("if-none-match"), tag):
        return Response(b"", status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        body = _gzipped(tag, body)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=MediaType.JSON, headers=headers)


def _gzipped(tag: str, body: bytes) -> bytes:
    if tag not in _GZIPPED:
        _GZIPPED[tag] = gzip.compress(body, compresslevel=6)
        while len(_GZIPPED) > 8:
            _GZIPPED.popitem(last=False)
    return _GZIPPED[tag]


def put(request: Request[Any, Any, Any], written: Written[Any], collection: str) -> Response[Any]:
    """A PUT's answer: 201 with the new record's `Location`, or 200."""
    created = written.state == "created"
    location = location_of(request, collection, written.record.id) if created else None
    return record(request, written.record, status_code=written.status_code, location=location)

"""The one error renderer: every error, the service's and the framework's, as {"error": "..."}.

The Litestar app hands it every exception; the edge uses it for what it refuses before the app
(401, 413, 429, 503).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException

from crosspath.errors import (
    BODY_TOO_LARGE,
    INTERNAL_ERROR,
    AppError,
    MethodNotAllowed,
    ServiceUnavailable,
)
from crosspath.store.engine import is_outage

log = logging.getLogger("crosspath.errors")
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def error_response(error: AppError) -> Response[dict[str, str]]:
    return Response(
        {"error": error.message},
        status_code=error.status_code,
        headers=error.headers,
        media_type=MediaType.JSON,
    )


async def send_error(send: Send, error: AppError) -> None:
    """The same answer as `error_response`, sent on the raw ASGI channel."""
    body = msgspec.json.encode({"error": error.message})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def as_app_error(exc: Exception, path: str, method: str, request_id: str) -> AppError:
    """What a partner is told of any exception."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, HTTPException):
        return _framework_error(exc, path, method)
    if is_outage(exc):
        log.error("database unavailable: %s", exc, extra={"request_id": request_id})
        return ServiceUnavailable()
    log.error("unhandled error", exc_info=exc, extra={"request_id": request_id})
    return _status(500, INTERNAL_ERROR)


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, str]]:
    request_id = request.scope.get("state", {}).get("request_id", "-")
    return error_response(as_app_error(exc, request.url.path, request.method, request_id))


def _status(status_code: int, message: str, headers: dict[str, str] | None = None) -> AppError:
    error = AppError(message, headers)
    error.status_code = status_code
    return error


def _framework_error(exc: HTTPException, path: str, method: str) -> AppError:
    headers = dict(exc.headers or {})
    if isinstance(exc, NotFoundException):
        return _status(404, f"There is no endpoint at {path}.", headers)
    if isinstance(exc, MethodNotAllowedException):
        return MethodNotAllowed(method, path, headers.get("allow") or headers.get("Allow") or "")
    if exc.status_code == 413:
        return _status(413, BODY_TOO_LARGE, headers)
    if exc.status_code >= 500:
        log.error("framework error %s: %s", exc.status_code, exc.detail)
        return _status(exc.status_code, INTERNAL_ERROR, headers)
    detail = exc.detail.strip() or "The request could not be processed"
    return _status(exc.status_code, detail if detail.endswith(".") else detail + ".", headers)

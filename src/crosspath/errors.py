"""Application errors and the one handler that renders every error as {"error": "..."}."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import sqlalchemy.exc
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, MethodNotAllowedException, NotFoundException
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger("crosspath.errors")

MAX_BODY_BYTES = 1024 * 1024

# Messages fixed by the partner contract, byte for byte.
MISSING_API_KEY = "Please provide your API key."
MISSION_NOT_UPDATABLE = "This mission does not exist or you don't have the permission to update it."
MISSION_NOT_FOUND = "This mission does not exist or you don't have the permission to access it."
COMPANY_NOT_FOUND = "This company does not exist or you don't have the permission to access it."
COMPANY_NOT_USABLE = "This company does not exist or you don't have the permission to use it."
STATUS_NOT_LIVE = "You can't update the status of a JD that is not Live."
BODY_TOO_LARGE = "The request body is larger than the 1 MiB limit."
INTERNAL_ERROR = "Internal server error."
UNAVAILABLE = "The service is temporarily unavailable; please retry in a few seconds."
RETRY_AFTER_OUTAGE = {"Retry-After": "5"}


class AppError(Exception):
    """An error a partner's user may read: an HTTP status and one English sentence."""

    status_code = 400

    def __init__(self, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = dict(headers or {})


class BadRequest(AppError):
    status_code = 400


class Unauthorized(AppError):
    status_code = 401


class Forbidden(AppError):
    status_code = 403


class NotFound(AppError):
    status_code = 404


class Conflict(AppError):
    status_code = 409


class UnsupportedMediaType(AppError):
    status_code = 415


class TooManyRequests(AppError):
    status_code = 429


class ServiceUnavailable(AppError):
    status_code = 503


class FieldErrors(BadRequest):
    """Every problem found in one request body, reported together in one sentence."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(join_problems(problems))
        self.problems = problems


def join_problems(problems: list[str]) -> str:
    return "; ".join(problems) + "."


def error_response(
    status_code: int, message: str, headers: Mapping[str, str] | None = None
) -> Response[dict[str, str]]:
    return Response(
        {"error": message},
        status_code=status_code,
        headers=dict(headers or {}),
        media_type=MediaType.JSON,
    )


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, str]]:
    if isinstance(exc, AppError):
        return error_response(exc.status_code, exc.message, exc.headers)
    if isinstance(exc, HTTPException):
        return _framework_error(request, exc)
    request_id = request.scope.get("state", {}).get("request_id", "-")
    if is_outage(exc):
        log.error("database unavailable: %s", exc, extra={"request_id": request_id})
        return error_response(503, UNAVAILABLE, RETRY_AFTER_OUTAGE)
    log.exception("unhandled error", extra={"request_id": request_id})
    return error_response(500, INTERNAL_ERROR)


def is_outage(exc: Exception) -> bool:
    """The database cannot be reached (down, restarting, or no pooled connection in time)."""
    if isinstance(exc, OperationalError | InterfaceError | sqlalchemy.exc.TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _framework_error(
    request: Request[Any, Any, Any], exc: HTTPException
) -> Response[dict[str, str]]:
    headers = dict(exc.headers or {})
    if isinstance(exc, NotFoundException):
        message = f"There is no endpoint at {request.url.path}."
    elif isinstance(exc, MethodNotAllowedException):
        allowed = headers.get("allow") or headers.get("Allow") or ""
        message = f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}."
    elif exc.status_code == 413:
        message = BODY_TOO_LARGE
    elif exc.status_code >= 500:
        log.error("framework error %s: %s", exc.status_code, exc.detail)
        message = INTERNAL_ERROR
    else:
        message = _sentence(exc.detail)
    return error_response(exc.status_code, message, headers)


def _sentence(detail: str) -> str:
    detail = detail.strip() or "The request could not be processed"
    return detail if detail.endswith(".") else detail + "."

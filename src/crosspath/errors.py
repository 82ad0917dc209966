"""Application errors: an HTTP status and one sentence a partner's user can read.

Domain code raises these; `api.errors` renders every error, these and the framework's, as
`{"error": "..."}`. Every message the service writes more than once lives here.
"""

from __future__ import annotations

from collections.abc import Mapping

MAX_BODY_BYTES = 1024 * 1024

# Messages fixed by the partner contract, byte for byte.
MISSING_API_KEY = "Please provide your API key."
MISSION_NOT_UPDATABLE = "This mission does not exist or you don't have the permission to update it."
MISSION_NOT_FOUND = "This mission does not exist or you don't have the permission to access it."
COMPANY_NOT_FOUND = "This company does not exist or you don't have the permission to access it."
COMPANY_NOT_USABLE = "This company does not exist or you don't have the permission to use it."
STATUS_NOT_LIVE = "You can't update the status of a JD that is not Live."
# The service's own.
BODY_TOO_LARGE = "The request body is larger than the 1 MiB limit."
INTERNAL_ERROR = "Internal server error."
UNAVAILABLE = "The service is temporarily unavailable; please retry in a few seconds."
RETRY_AFTER_OUTAGE = {"Retry-After": "5"}
AUTHENTICATE = {"WWW-Authenticate": 'Apikey realm="CrossPath"'}


def too_many_requests(limit: int, window: float, reset: int) -> str:
    return (
        f"Too many requests: at most {limit} requests in any {window:g} seconds per API key. "
        f"Retry in {reset} seconds."
    )


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

    def __init__(self) -> None:
        super().__init__(MISSING_API_KEY, AUTHENTICATE)


class Forbidden(AppError):
    status_code = 403


class NotFound(AppError):
    status_code = 404


class MethodNotAllowed(AppError):
    status_code = 405

    def __init__(self, method: str, path: str, allowed: str) -> None:
        super().__init__(
            f"{method} is not allowed on {path}; allowed: {allowed}.", {"Allow": allowed}
        )


class Conflict(AppError):
    status_code = 409


class Gone(AppError):
    status_code = 410


class PayloadTooLarge(AppError):
    status_code = 413

    def __init__(self) -> None:
        super().__init__(BODY_TOO_LARGE, {"Connection": "close"})


class UnsupportedMediaType(AppError):
    status_code = 415


class TooManyRequests(AppError):
    status_code = 429


class ServiceUnavailable(AppError):
    status_code = 503

    def __init__(self, message: str = UNAVAILABLE) -> None:
        super().__init__(message, RETRY_AFTER_OUTAGE)


class FieldErrors(BadRequest):
    """Every problem found in one request body, reported together in one sentence."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(join_problems(problems))
        self.problems = problems


def join_problems(problems: list[str]) -> str:
    return "; ".join(problems) + "."

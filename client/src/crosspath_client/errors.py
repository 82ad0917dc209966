"""What the client raises: every refusal carries the status, the API's message and the request
id to quote to CrossPath's support."""

from __future__ import annotations


class CrossPathError(Exception):
    """Base of everything this package raises."""


class ApiError(CrossPathError):
    """The API answered with an error (`{"error": "..."}`)."""

    def __init__(self, status: int, message: str, request_id: str | None) -> None:
        super().__init__(
            f"{status}: {message}" + (f" (request {request_id})" if request_id else "")
        )
        self.status = status
        self.message = message
        self.request_id = request_id


class FeedExpired(ApiError):
    """The change feed no longer holds the stored cursor (410): list with `updated_since`, then
    follow the feed again from its oldest event."""


class ConnectionFailed(CrossPathError):
    """The service could not be reached, even after the retries."""


class InvalidSignature(CrossPathError):
    """A webhook delivery whose signature does not verify: do not trust its body."""

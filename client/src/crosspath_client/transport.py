"""One HTTP exchange with the API, retried when retrying is safe and useful.

Retried: 429 (after `Retry-After`), 503, a 409 saying the same `Idempotency-Key` is still being
processed, and connection errors. Every POST carries an `Idempotency-Key` (made here when the
caller gives none) that its retries reuse, so a retry never writes twice; GET, PUT and DELETE
are idempotent by themselves.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec

from crosspath_client.errors import ApiError, ConnectionFailed, FeedExpired
from crosspath_client.version import __version__

BASE_PATH = "/partners/v1"
STILL_PROCESSING = "A request with this Idempotency-Key is still being processed"
Sleep = Callable[[float], None]


def base_url(url: str) -> str:
    """The API's base URL from the service's address, with or without the base path."""
    url = url.strip().rstrip("/")
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"The service's URL must start with http:// or https:// (not {url!r}).")
    for suffix in (BASE_PATH, "/partners/hunteron/v1"):
        if url.endswith(suffix):
            return url
    return url + BASE_PATH


@dataclass
class Retry:
    """How hard to try: `attempts` tries (for 503s and connection errors), waits of
    `base * 2**n` seconds (at most `cap`) with full jitter; a `Retry-After` is honoured as
    given, and up to `rate_limited` 429s are waited out besides."""

    attempts: int = 8
    base: float = 0.5
    cap: float = 30.0
    rate_limited: int = 30  # 429s waited out per call, on top of `attempts`

    def backoff(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap, self.base * 2**attempt))


@dataclass
class Transport:
    url: str
    api_key: str | None = None
    timeout: float = 30.0
    retry: Retry = field(default_factory=Retry)
    sleep: Sleep = time.sleep
    on_response: Callable[[httpx.Response], None] | None = None
    _http: httpx.Client = field(init=False, repr=False)
    _wait_until: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        key = self.api_key or os.environ.get("CROSSPATH_API_KEY")
        if not key:
            raise ValueError("No API key: pass api_key= or set CROSSPATH_API_KEY.")
        self._http = httpx.Client(
            base_url=base_url(self.url),
            timeout=self.timeout,
            headers={
                "Authorization": f"Apikey {key}",
                "User-Agent": f"crosspath-client/{__version__}",
                "Accept": "application/json",
            },
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """The answer (2xx, or 304) of one call; an `ApiError` for any other."""
        sent = dict(headers or {})
        content = None
        if json is not None:
            content = msgspec.json.encode(json)
            sent["Content-Type"] = "application/json"
        if method == "POST":
            sent["Idempotency-Key"] = idempotency_key or f"cpc-{uuid.uuid4().hex}"
        query = {k: v for k, v in (params or {}).items() if v is not None}
        failures = limited = 0  # a 429 is waited out apart: the budget is shared, not broken
        while True:
            self._pace()
            try:
                response = self._http.request(
                    method, path, params=query, content=content, headers=sent
                )
            except httpx.TransportError as exc:
                failures += 1
                if failures == self.retry.attempts:
                    raise ConnectionFailed(f"{method} {path}: {exc!r}") from exc
                self.sleep(self.retry.backoff(failures - 1))
                continue
            self._note_limit(response)
            if self.on_response is not None:
                self.on_response(response)
            wait = self._retry_after(response, failures + limited)
            if response.status_code == 429:
                limited += 1
                last = limited > self.retry.rate_limited
            else:
                failures += 1
                last = failures == self.retry.attempts
            if wait is None or last:
                return _checked(response)
            self.sleep(wait)

    def _retry_after(self, response: httpx.Response, attempt: int) -> float | None:
        """How long to wait before trying again, or None when this answer is final."""
        status = response.status_code
        if status == 409 and "Idempotency-Key" in response.request.headers:
            if STILL_PROCESSING not in _message(response):
                return None
        elif status not in (429, 503):
            return None
        given = _seconds(response.headers.get("retry-after"))
        if given is not None:
            return given + random.uniform(0, 0.25)
        return self.retry.backoff(attempt)

    def _note_limit(self, response: httpx.Response) -> None:
        # Out of budget for this window: wait for it rather than spend a call on a 429.
        if response.headers.get("ratelimit-remaining") == "0":
            reset = _seconds(response.headers.get("ratelimit-reset")) or 1.0
            self._wait_until = time.monotonic() + reset

    def _pace(self) -> None:
        delay = self._wait_until - time.monotonic()
        if delay > 0:
            self.sleep(delay)


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return response.text[:500]


def _checked(response: httpx.Response) -> httpx.Response:
    if response.is_success or response.status_code == 304:
        return response
    error = ApiError
    if response.status_code == 410:
        error = FeedExpired
    raise error(response.status_code, _message(response), response.headers.get("x-request-id"))

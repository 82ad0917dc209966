"""The front door of every request, around the Litestar app.

It runs before routing, so that under a partner base path a request without a valid key gets
401 whatever else is wrong with it, unknown routes included. In order: request id, early 413,
authentication (401), rate limit (429); then the app; then security and rate-limit headers and
one JSON access-log line.
"""

from __future__ import annotations

import logging
import re
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from datetime import UTC, datetime
from typing import Any

import anyio
import msgspec
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from crosspath import auth
from crosspath.errors import (
    BODY_TOO_LARGE,
    MAX_BODY_BYTES,
    MISSING_API_KEY,
    RETRY_AFTER_OUTAGE,
    UNAVAILABLE,
)
from crosspath.ratelimit import Limiter
from crosspath.settings import Settings

PARTNER_BASE_PATHS = ("/partners/v1", "/partners/hunteron/v1")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("crosspath.access")
log = logging.getLogger("crosspath.gate")


def is_partner_path(path: str) -> bool:
    return any(path == base or path.startswith(base + "/") for base in PARTNER_BASE_PATHS)


class Gate:
    def __init__(self, app: ASGIApp, engine: Engine, settings: Settings, limiter: Limiter) -> None:
        self.app = app
        self.engine = engine
        self.secret = settings.secret_key
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = _headers(scope)
        request_id = headers.get("x-request-id", "")
        if not _REQUEST_ID.fullmatch(request_id):
            request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        partner = is_partner_path(scope["path"])
        extra = [("x-request-id", request_id), ("x-content-type-options", "nosniff")]
        if partner:
            extra.append(("cache-control", "no-store"))
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                kept = (
                    [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"cache-control"]
                    if partner
                    else list(message.get("headers", ()))
                )
                message = {
                    **message,
                    "headers": kept + [(k.encode(), v.encode()) for k, v in extra],
                }
            await send(message)

        try:
            refusal = await self._refusal(headers, state, extra) if partner else None
            if refusal is not None:
                await _send_error(send_with_headers, *refusal)
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            caller = state.get("caller")
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "partner_id": caller.partner_id if caller else None,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                },
            )

    async def _refusal(
        self, headers: dict[str, str], state: dict[str, Any], extra: list[tuple[str, str]]
    ) -> tuple[int, str, dict[str, str]] | None:
        """Why a partner request stops here (status, message, headers), or None to go on."""
        length = headers.get("content-length", "")
        if length.isascii() and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return 413, BODY_TOO_LARGE, {"connection": "close"}
        try:
            caller = auth.authenticate(self.engine, self.secret, headers.get("authorization"))
        except SQLAlchemyError as exc:
            log.error("authentication failed, database unavailable: %s", exc)
            return 503, UNAVAILABLE, RETRY_AFTER_OUTAGE
        if caller is None:
            return 401, MISSING_API_KEY, {"www-authenticate": 'Apikey realm="CrossPath"'}
        state["caller"] = caller
        decision = await self.limiter.check(caller.key_id)
        extra.extend((name.lower(), value) for name, value in decision.headers().items())
        if not decision.allowed:
            return (
                429,
                (
                    f"Too many requests: at most {self.limiter.limit} requests in any "
                    f"{self.limiter.window:g} seconds per API key. "
                    f"Retry in {decision.reset} seconds."
                ),
                {},
            )
        if auth.needs_touch(caller):
            await anyio.to_thread.run_sync(auth.touch_key, self.engine, caller)
        return None


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _send_error(send: Send, status: int, message: str, headers: dict[str, str]) -> None:
    body = msgspec.json.encode({"error": message})
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw_headers += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line; never includes request headers, so never a credential."""

    FIELDS = ("request_id", "partner_id", "method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({name: getattr(record, name) for name in self.FIELDS if hasattr(record, name)})
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return msgspec.json.encode(entry).decode()


def configure_logging(level: str, handlers: Iterable[logging.Handler] | None = None) -> None:
    # The JSON lines never show threads or processes: logging need not look them up for every
    # record (its documented optimisation; a third of an access-log line's cost, bench/).
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    root.handlers = [handler, *(handlers or [])]
    root.setLevel(level)

"""The front door of every request, around the Litestar app.

It runs before routing, so that under a partner base path a request without a valid key gets
401 whatever else is wrong with it, unknown routes included. In order: request id, early 413,
authentication (401), rate limit (429); then `OPTIONS` and a method the path does not serve
(405), both answered here with `Allow` from the app's routes; then the app; then security and
rate-limit headers and one JSON access-log line. `HEAD` is answered as `GET` without the body.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from crosspath.api.errors import send_error
from crosspath.api.ratelimit import Limiter
from crosspath.caller import Caller
from crosspath.errors import (
    MAX_BODY_BYTES,
    AppError,
    MethodNotAllowed,
    PayloadTooLarge,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    too_many_requests,
)
from crosspath.store.transaction import run_sync

PARTNER_BASE_PATHS = ("/partners/v1", "/partners/hunteron/v1")
TOUCH_TIMEOUT = 2.0  # seconds a request waits for its key's last use to be recorded
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Authenticate = Callable[[str | None], Awaitable[Caller | None]]
Touch = Callable[[Caller], None]
NeedsTouch = Callable[[Caller], bool]
Methods = Callable[[str], tuple[str, ...] | None]

access_log = logging.getLogger("crosspath.access")
log = logging.getLogger("crosspath.edge")


def is_partner_path(path: str) -> bool:
    return any(path == base or path.startswith(base + "/") for base in PARTNER_BASE_PATHS)


class Edge:
    def __init__(
        self,
        app: ASGIApp,
        engine: Engine,
        limiter: Limiter,
        authenticate: Authenticate,
        needs_touch: NeedsTouch,
        touch: Touch,
        methods: Methods,
    ) -> None:
        self.app = app
        self.engine = engine
        self.limiter = limiter
        self.authenticate = authenticate
        self.needs_touch = needs_touch
        self.touch = touch
        self.methods = methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers, authorizations = _headers(scope)
        request_id = headers.get("x-request-id", "")
        if not _REQUEST_ID.fullmatch(request_id):
            request_id = os.urandom(16).hex()  # 32 hex digits like uuid4().hex, a fifth the cost
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        partner = is_partner_path(scope["path"])
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        extra = [("x-request-id", request_id), ("x-content-type-options", "nosniff")]
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                added = [(k.encode(), v.encode()) for k, v in extra]
                # Partner answers are not to be cached, unless the route says how (references).
                if partner and not any(k.lower() == b"cache-control" for k, _ in headers):
                    added.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers + added}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            refusal = (
                await self._refusal(headers, authorizations, state, extra) if partner else None
            )
            # GET (HEAD included) goes straight on: where no route serves it, the app's 405
            # lists the right methods, since HEAD is only added where GET is served.
            allowed = self.methods(scope["path"]) if scope["method"] != "GET" else None
            if refusal is not None:
                await send_error(send_with_headers, refusal)
            elif allowed is not None and scope["method"] == "OPTIONS":
                await _send_allow(send_with_headers, allowed)
            elif allowed is not None and scope["method"] not in allowed:
                await send_error(
                    send_with_headers,
                    MethodNotAllowed(scope["method"], scope["path"], ", ".join(allowed)),
                )
            else:
                await self.app(scope, receive, send_with_headers)
        finally:
            caller = state.get("caller")
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "partner_id": caller.partner_id if caller else None,
                    "method": "HEAD" if head else scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                },
            )

    async def _refusal(
        self,
        headers: dict[str, str],
        authorizations: int,
        state: dict[str, Any],
        extra: list[tuple[str, str]],
    ) -> AppError | None:
        """Why a partner request stops here, or None to go on."""
        length = headers.get("content-length", "")
        if length.isascii() and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return PayloadTooLarge()
        if authorizations != 1:  # none, or several that could name different partners
            return Unauthorized()
        try:
            caller = await self.authenticate(headers.get("authorization"))
        except (SQLAlchemyError, ServiceUnavailable) as exc:
            log.error("authentication failed, database unavailable: %s", exc)
            return ServiceUnavailable()
        if caller is None:
            return Unauthorized()
        state["caller"] = caller
        decision = await self.limiter.check(caller.key_id)
        extra.extend((name.lower(), value) for name, value in decision.headers().items())
        if not decision.allowed:
            limiter = self.limiter
            return TooManyRequests(too_many_requests(limiter.limit, limiter.window, decision.reset))
        if self.needs_touch(caller):
            try:  # a hint for operators: never worth more than a short wait
                await run_sync(self.engine, self.touch, caller, writes=True, timeout=TOUCH_TIMEOUT)
            except (SQLAlchemyError, ServiceUnavailable) as exc:
                log.warning("last use of key %s not recorded: %s", caller.key_id, exc)
        return None


async def _send_allow(send: Send, allowed: tuple[str, ...]) -> None:
    """The answer to OPTIONS: every method the path serves, from the router's own routes."""
    headers = [(b"allow", ", ".join(allowed).encode()), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def _headers(scope: Scope) -> tuple[dict[str, str], int]:
    """The request's headers by lower-case name, and how many `Authorization` headers it has."""
    headers: dict[str, str] = {}
    authorizations = 0
    for raw_name, raw_value in scope["headers"]:
        name = raw_name.decode("latin-1").lower()
        authorizations += name == "authorization"
        headers[name] = raw_value.decode("latin-1")
    return headers, authorizations

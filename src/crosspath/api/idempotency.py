"""`Idempotency-Key` on every partner POST: a retry gets the first answer and writes nothing.

The outcome is stored in the write's own transaction (`store.idempotency`), so no crash between
the write and the answer can let a retry write twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response
from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from crosspath.api import answers
from crosspath.caller import Caller
from crosspath.errors import BadRequest
from crosspath.store import idempotency
from crosspath.store.idempotency import Outcome
from crosspath.store.transaction import write

HEADER = "Idempotency-Key"
_KEY = re.compile(r"[\x20-\x7e]{1,255}")
_BASES = ("/partners/hunteron/v1", "/partners/v1")


def key_of(request: Request[Any, Any, Any]) -> str | None:
    values = request.headers.getall(HEADER.lower(), [])
    if not values:
        return None
    if len(values) > 1 or _KEY.fullmatch(values[0]) is None:
        raise BadRequest(f"{HEADER} must be 1 to 255 printable ASCII characters, sent once.")
    return values[0]


def fingerprint(request: Request[Any, Any, Any], data: Any) -> str:
    """The request a key was used for: method, path under the base path, body once decoded."""
    path = request.url.path
    for base in _BASES:
        path = path.removeprefix(base)
    canonical = msgspec.json.encode([request.method, path, data], order="sorted")
    return hashlib.sha256(canonical).hexdigest()


async def run(
    request: Request[Any, Any, Any],
    engine: Engine,
    caller: Caller,
    data: Any,
    work: Callable[[Connection], Outcome],
) -> Response[Any]:
    """`work` in a write transaction, or the stored answer of an earlier request with the
    same key. Only a 2xx outcome is kept: after an error the key may be tried again."""
    key = key_of(request)
    if key is None:
        return _answer(request, await write(engine, work))
    print_ = fingerprint(request, data)

    def once(conn: Connection) -> tuple[Outcome, bool]:
        stored = idempotency.claim(conn, caller.partner_id, key, print_)
        if stored is not None:
            return stored, True
        outcome = work(conn)
        if 200 <= outcome.status_code < 300:
            idempotency.record(conn, caller.partner_id, key, print_, outcome)
        return outcome, False

    outcome, replayed = await write(engine, once)
    return _answer(request, outcome, {"Idempotent-Replayed": "true"} if replayed else None)


def _answer(
    request: Request[Any, Any, Any], outcome: Outcome, headers: dict[str, str] | None = None
) -> Response[Any]:
    # A created record carries its ETag; a batch's results are no record and have none.
    return answers.encoded(
        request,
        outcome.body,
        status_code=outcome.status_code,
        location=outcome.location,
        headers=headers,
        etag=outcome.status_code == 201,
    )

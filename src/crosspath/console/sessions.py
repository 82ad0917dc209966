"""Console sessions: a random token in the operator's cookie, only its hash in the database.

A session ends when the operator signs out, is disabled or gets a new password, after
`CROSSPATH_CONSOLE_IDLE_MINUTES` without a request, and at the latest `LIFETIME` after it
opened. Every form of a session carries a CSRF token derived from the session's own token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from crosspath.store.tables import console_sessions, operators
from crosspath.timestamps import parse_rfc3339, utcnow

LIFETIME = timedelta(hours=12)
# last_seen_at is written at most this often: the idle timeout is exact to within it.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Session:
    token_hash: str
    operator_id: str
    email: str
    last_seen_at: str


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def form_token(secret: str, purpose: str, token: str) -> str:
    """The CSRF token for `purpose` ("session" or "sign-in") bound to a cookie's token: only
    a page this service rendered for the holder of that cookie can know it."""
    message = f"crosspath-console-{purpose}:{token}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def open_session(conn: Connection, operator_id: str, client: str) -> str:
    token, now = new_token(), utcnow()
    conn.execute(
        insert(console_sessions).values(
            token_hash=token_hash(token),
            operator_id=operator_id,
            client=client[:100],
            created_at=now,
            last_seen_at=now,
        )
    )
    return token


_FIND = (
    select(
        console_sessions.c.token_hash,
        console_sessions.c.operator_id,
        console_sessions.c.last_seen_at,
        operators.c.email,
    )
    .join(operators, operators.c.id == console_sessions.c.operator_id)
    .where(
        console_sessions.c.token_hash == bindparam("token_hash"),
        console_sessions.c.ended_at.is_(None),
        console_sessions.c.last_seen_at > bindparam("idle_since"),
        console_sessions.c.created_at > bindparam("opened_since"),
        operators.c.disabled_at.is_(None),
    )
)


def find(conn: Connection, token: str, idle: timedelta) -> Session | None:
    """The live session of this token, or None: unknown, ended, idle too long, or too old."""
    now = utcnow()
    params = {"token_hash": token_hash(token), "idle_since": now - idle}
    row = conn.execute(_FIND, params | {"opened_since": now - LIFETIME}).first()
    if row is None:
        return None
    return Session(row.token_hash, row.operator_id, row.email, row.last_seen_at)


def needs_touch(session: Session, now: datetime) -> bool:
    return now - parse_rfc3339(session.last_seen_at) >= TOUCH_EVERY


def touch(conn: Connection, session: Session) -> None:
    conn.execute(
        update(console_sessions)
        .where(console_sessions.c.token_hash == session.token_hash)
        .values(last_seen_at=utcnow())
    )


def end(conn: Connection, session: Session) -> None:
    conn.execute(
        update(console_sessions)
        .where(console_sessions.c.token_hash == session.token_hash)
        .values(ended_at=utcnow())
    )

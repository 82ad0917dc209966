"""Signing in to the console, and what makes guessing passwords get nowhere.

Each attempt is counted as a failure before its password is checked, and forgiven only once
it succeeds: so attempts sent side by side cannot slip past the limits. Failures are counted
per e-mail address (whether or not it names an operator) and per client address, in the
database, so the limits hold across every worker and instance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Engine, delete, insert, select
from sqlalchemy.engine import Connection

from crosspath.console import audit, sessions
from crosspath.console.operators import verify_password
from crosspath.errors import AppError, TooManyRequests
from crosspath.ids import new_id
from crosspath.store.tables import login_failures, operators
from crosspath.store.transaction import run_sync, write
from crosspath.timestamps import parse_rfc3339, utcnow

ACCOUNT_LIMIT = 5  # failed sign-ins of one e-mail address in any WINDOW
CLIENT_LIMIT = 20  # failed sign-ins from one client address in any WINDOW
WINDOW = timedelta(minutes=15)
WRONG_CREDENTIALS = "The e-mail address or the password is not right."


class WrongCredentials(AppError):
    status_code = 400

    def __init__(self) -> None:
        super().__init__(WRONG_CREDENTIALS)


@dataclass(frozen=True, slots=True)
class Attempt:
    failure_id: str
    email: str
    client: str
    operator_id: str | None
    password_hash: str | None


async def sign_in(engine: Engine, email: str, password: str, client: str) -> str:
    """A new session's token, or WrongCredentials, or TooManyRequests when locked out."""
    attempt = await write(engine, hold, email.strip().lower()[:254], client[:100])
    right = await run_sync(engine, verify_password, attempt.password_hash, password)
    if not right or attempt.operator_id is None:
        raise WrongCredentials()
    return await write(engine, succeed, attempt)


def hold(conn: Connection, email: str, client: str) -> Attempt:
    """Refuse a locked-out attempt; else count it as a failure until it succeeds."""
    # On PostgreSQL the operator's row lock makes concurrent guesses at one account take turns.
    operator = conn.execute(
        select(operators.c.id, operators.c.password_hash, operators.c.disabled_at)
        .where(operators.c.email == email)
        .with_for_update()
    ).first()
    now = utcnow()
    wait = max(
        _wait(conn, login_failures.c.email, email, ACCOUNT_LIMIT, now),
        _wait(conn, login_failures.c.client, client, CLIENT_LIMIT, now),
    )
    if wait > 0:
        minutes = math.ceil(wait / 60)
        raise TooManyRequests(
            "Too many failed sign-ins. For your security, signing in is paused: please try "
            f"again in {minutes} minute{'s' if minutes != 1 else ''}.",
            {"Retry-After": str(math.ceil(wait))},
        )
    conn.execute(delete(login_failures).where(login_failures.c.created_at <= now - WINDOW))
    failure_id = new_id("lgf")
    conn.execute(
        insert(login_failures).values(id=failure_id, email=email, client=client, created_at=now)
    )
    usable = operator is not None and operator.disabled_at is None
    return Attempt(
        failure_id=failure_id,
        email=email,
        client=client,
        operator_id=operator.id if usable and operator else None,
        password_hash=operator.password_hash if usable and operator else None,
    )


def _wait(conn: Connection, column: Column[str], value: str, limit: int, now: datetime) -> float:
    """Seconds until fewer than `limit` failures of this address remain in the window."""
    recent = conn.scalars(
        select(login_failures.c.created_at)
        .where(column == value, login_failures.c.created_at > now - WINDOW)
        .order_by(login_failures.c.created_at.desc())
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return 0.0
    return (parse_rfc3339(recent[-1]) + WINDOW - now).total_seconds()


def succeed(conn: Connection, attempt: Attempt) -> str:
    """The account's failures are forgiven; the client's others still count."""
    assert attempt.operator_id is not None
    conn.execute(delete(login_failures).where(login_failures.c.email == attempt.email))
    token = sessions.open_session(conn, attempt.operator_id, attempt.client)
    actor = audit.Actor(attempt.email, attempt.client)
    audit.record(conn, actor, "operator.sign_in", attempt.operator_id)
    return token


def sign_out(conn: Connection, session: sessions.Session, actor: audit.Actor) -> None:
    sessions.end(conn, session)
    audit.record(conn, actor, "operator.sign_out", session.operator_id)

"""CrossPath operators: the people who sign in to the console. Passwords are argon2id hashes.

Operators are created and managed from the command line only, so that no one who can reach
the console's sign-in page can ever make an account.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from crosspath.access.service import Email
from crosspath.errors import BadRequest, Conflict, NotFound
from crosspath.fields import Invalid
from crosspath.ids import new_id
from crosspath.store.tables import console_sessions, operators
from crosspath.timestamps import utcnow

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # hashing is the cost of a sign-in: a bound keeps it one
# argon2-cffi's defaults: argon2id with RFC 9106's low-memory profile (t=3, 64 MiB, p=4).
_hasher = PasswordHasher()


class Operator(msgspec.Struct):
    id: str
    email: str
    created_at: str
    password_changed_at: str
    disabled_at: str | None


def normal_email(email: str) -> str:
    """An operator's address as it is stored and looked up: trimmed, in lower case."""
    try:
        checked = Email()(email)
    except Invalid as exc:
        raise BadRequest(f"The e-mail address {exc}.") from None
    if checked is None:
        raise BadRequest("The e-mail address is required.")
    return checked.lower()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"The password must be at least {MIN_PASSWORD} characters.")
    if len(password) > MAX_PASSWORD:
        raise BadRequest(f"The password must be at most {MAX_PASSWORD} characters.")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password is right. Without a hash (no such operator) the same work is done
    against a stand-in, so the time taken does not tell whether the address exists."""
    try:
        return _hasher.verify(password_hash or _stand_in(), password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        return False


@cache
def _stand_in() -> str:
    return _hasher.hash("not the password of any operator")


def create(conn: Connection, email: str, password: str) -> Operator:
    email = normal_email(email)
    if conn.scalar(select(operators.c.id).where(operators.c.email == email)) is not None:
        raise Conflict(f"There is already an operator {email}.")
    operator_id, now = new_id("opr"), utcnow()
    conn.execute(
        insert(operators).values(
            id=operator_id,
            email=email,
            password_hash=hash_password(password),
            created_at=now,
            password_changed_at=now,
        )
    )
    return get(conn, email)


def list_operators(conn: Connection) -> list[Operator]:
    return [_operator(row) for row in conn.execute(select(operators).order_by(operators.c.id))]


def get(conn: Connection, email: str) -> Operator:
    row = conn.execute(select(operators).where(operators.c.email == normal_email(email))).first()
    if row is None:
        raise NotFound(f"There is no operator {email.strip()}.")
    return _operator(row)


def disable(conn: Connection, email: str) -> Operator:
    """They can no longer sign in, and every session of theirs ends now."""
    operator = get(conn, email)
    conn.execute(
        update(operators)
        .where(operators.c.id == operator.id, operators.c.disabled_at.is_(None))
        .values(disabled_at=utcnow())
    )
    end_sessions(conn, operator.id)
    return get(conn, email)


def reset_password(conn: Connection, email: str, password: str) -> Operator:
    """A new password; every session opened with the old one ends."""
    operator = get(conn, email)
    conn.execute(
        update(operators)
        .where(operators.c.id == operator.id)
        .values(password_hash=hash_password(password), password_changed_at=utcnow())
    )
    end_sessions(conn, operator.id)
    return get(conn, email)


def end_sessions(conn: Connection, operator_id: str) -> None:
    conn.execute(
        update(console_sessions)
        .where(console_sessions.c.operator_id == operator_id, console_sessions.c.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


def _operator(row: Row[Any]) -> Operator:
    return Operator(
        id=row.id,
        email=row.email,
        created_at=row.created_at,
        password_changed_at=row.password_changed_at,
        disabled_at=row.disabled_at,
    )

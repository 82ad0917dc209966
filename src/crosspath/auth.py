"""API keys: their format, keyed hashing, and the lookup of the partner behind a request."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.engine import Connection

from crosspath.db import api_keys, from_driver, one_statement, run, transaction, utcnow

KEY_PREFIX = "Recruitment-"
_KEY_ALPHABET = string.ascii_letters + string.digits
_KEY_PATTERN = re.compile(r"Recruitment-[A-Za-z0-9]{32}")
_SCHEMES = ("apikey", "bearer")
# last_used_at is a hint for operators, not an audit trail: refresh it at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated partner account and the key it used."""

    partner_id: str
    key_id: str
    key_last_used_at: datetime | None


def generate_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(32))


def hash_key(secret: str, key: str) -> str:
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def display_prefix(key: str) -> str:
    """What operators see of a key: enough to recognise it, far too little to use it."""
    return key[: len(KEY_PREFIX) + 4]


def key_from_header(authorization: str | None) -> str | None:
    """The key in `Apikey <key>` or `Bearer <key>` (scheme case-insensitive), if well formed."""
    if not authorization:
        return None
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    if scheme.lower() not in _SCHEMES or _KEY_PATTERN.fullmatch(key) is None:
        return None
    return key


_FIND_CALLER = (
    "SELECT k.partner_id, k.id, k.key_hash, k.last_used_at FROM api_keys k "
    "JOIN partners p ON p.id = k.partner_id "
    "WHERE k.key_hash = ? AND k.revoked_at IS NULL AND p.disabled_at IS NULL"
)


def find_caller(conn: Connection, secret: str, key: str) -> Caller | None:
    """The active key's partner, or None for an unknown, revoked or disabled one."""
    digest = hash_key(secret, key)
    rows = run(conn, _FIND_CALLER, (digest,))  # every request: the driver directly, see db.run
    if not rows or not hmac.compare_digest(rows[0][2], digest):
        return None
    partner_id, key_id, _, last_used_at = rows[0]
    last_used_at = from_driver(conn, api_keys.c.last_used_at, last_used_at)
    return Caller(partner_id=partner_id, key_id=key_id, key_last_used_at=last_used_at)


def authenticate(engine: Engine, secret: str, authorization: str | None) -> Caller | None:
    key = key_from_header(authorization)
    if key is None:
        return None
    with one_statement(engine) as conn:
        return find_caller(conn, secret, key)


def needs_touch(caller: Caller) -> bool:
    last = caller.key_last_used_at
    return last is None or utcnow() - last >= LAST_USED_RESOLUTION


def touch_key(engine: Engine, caller: Caller) -> None:
    with transaction(engine, write=True) as conn:
        conn.execute(
            update(api_keys)
            .where(api_keys.c.partner_id == caller.partner_id, api_keys.c.id == caller.key_id)
            .values(last_used_at=utcnow())
        )

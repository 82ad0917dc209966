"""API keys: their format, keyed hashing, and the lookup of the partner behind a request."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from datetime import timedelta

from sqlalchemy import Engine, bindparam, select, update
from sqlalchemy.engine import Connection

from crosspath.caller import Caller
from crosspath.store.tables import api_keys, partners
from crosspath.store.transaction import read, transaction
from crosspath.timestamps import parse_rfc3339, utcnow

KEY_PREFIX = "Recruitment-"
_KEY_ALPHABET = string.ascii_letters + string.digits
_KEY_PATTERN = re.compile(r"Recruitment-[A-Za-z0-9]{32}")
_SCHEMES = ("apikey", "bearer")
# last_used_at is a hint for operators, not an audit trail: refresh it at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)


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
    select(api_keys.c.partner_id, api_keys.c.id, api_keys.c.key_hash, api_keys.c.last_used_at)
    .join(partners, partners.c.id == api_keys.c.partner_id)
    .where(
        api_keys.c.key_hash == bindparam("digest"),
        api_keys.c.revoked_at.is_(None),
        partners.c.disabled_at.is_(None),
    )
)
_TOUCH = (
    update(api_keys)
    .where(api_keys.c.partner_id == bindparam("_partner_id"), api_keys.c.id == bindparam("_id"))
    .values(last_used_at=bindparam("now"))
)


def find_caller(conn: Connection, secret: str, key: str) -> Caller | None:
    """The active key's partner, or None for an unknown, revoked or disabled one."""
    digest = hash_key(secret, key)
    row = conn.execute(_FIND_CALLER, {"digest": digest}).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    return Caller(partner_id=row.partner_id, key_id=row.id, key_last_used_at=row.last_used_at)


async def authenticate(engine: Engine, secret: str, authorization: str | None) -> Caller | None:
    """The caller named by an `Authorization` header, or None (the 401)."""
    key = key_from_header(authorization)
    if key is None:
        return None
    return await read(engine, find_caller, secret, key)


def needs_touch(caller: Caller) -> bool:
    last = caller.key_last_used_at
    return last is None or utcnow() - parse_rfc3339(last) >= LAST_USED_RESOLUTION


def touch_key(engine: Engine, caller: Caller) -> None:
    with transaction(engine, write=True) as conn:
        params = {"_partner_id": caller.partner_id, "_id": caller.key_id, "now": utcnow()}
        conn.execute(_TOUCH, params)

"""Partner accounts and their API keys, as CrossPath operators manage them."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from crosspath.accounts.keys import display_prefix, generate_key, hash_key
from crosspath.errors import BadRequest, NotFound
from crosspath.ids import new_id
from crosspath.store.tables import api_keys, partners
from crosspath.timestamps import rfc3339, utcnow


class Partner(msgspec.Struct):
    id: str
    name: str
    created_at: str
    disabled_at: str | None


class IssuedKey(msgspec.Struct):
    id: str
    key: str
    partner_id: str


class KeyInfo(msgspec.Struct):
    id: str
    partner_id: str
    prefix: str
    label: str | None
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


def create_partner(conn: Connection, name: str) -> Partner:
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise BadRequest("The partner name must be 1 to 200 characters.")
    partner_id, now = new_id("ptn"), utcnow()
    conn.execute(insert(partners).values(id=partner_id, name=name, created_at=now))
    return Partner(partner_id, name, rfc3339(now), None)


def list_partners(conn: Connection) -> list[Partner]:
    rows = conn.execute(select(partners).order_by(partners.c.id))
    return [Partner(row.id, row.name, row.created_at, row.disabled_at) for row in rows]


def get_partner(conn: Connection, partner_id: str) -> Partner:
    row = conn.execute(select(partners).where(partners.c.id == partner_id)).first()
    if row is None:
        raise NotFound(f"There is no partner {partner_id}.")
    return Partner(row.id, row.name, row.created_at, row.disabled_at)


def disable_partner(conn: Connection, partner_id: str) -> Partner:
    """From the next request on, every key of this partner gets 401. Its data is kept."""
    get_partner(conn, partner_id)
    conn.execute(
        update(partners)
        .where(partners.c.id == partner_id, partners.c.disabled_at.is_(None))
        .values(disabled_at=utcnow())
    )
    return get_partner(conn, partner_id)


def issue_key(conn: Connection, secret: str, partner_id: str, label: str | None) -> IssuedKey:
    """A new key for the partner; the only time its value exists outside the caller's hands."""
    get_partner(conn, partner_id)
    key = generate_key()
    key_id = new_id("key")
    conn.execute(
        insert(api_keys).values(
            partner_id=partner_id,
            id=key_id,
            key_hash=hash_key(secret, key),
            prefix=display_prefix(key),
            label=(label or "").strip() or None,
            created_at=utcnow(),
        )
    )
    return IssuedKey(id=key_id, key=key, partner_id=partner_id)


def list_keys(conn: Connection, partner_id: str) -> list[KeyInfo]:
    get_partner(conn, partner_id)
    rows = conn.execute(
        select(api_keys).where(api_keys.c.partner_id == partner_id).order_by(api_keys.c.id)
    )
    return [_key_info(row) for row in rows]


def revoke_key(conn: Connection, key_id: str) -> KeyInfo:
    """From the next request on, this key gets 401."""
    conn.execute(
        update(api_keys)
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None:
        raise NotFound(f"There is no key {key_id}.")
    return _key_info(row)


def _key_info(row: Row[Any]) -> KeyInfo:
    return KeyInfo(
        id=row.id,
        partner_id=row.partner_id,
        prefix=row.prefix,
        label=row.label,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )

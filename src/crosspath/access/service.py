"""Requests for API access, sent from the portal and decided once by a CrossPath operator.

Approving one creates the partner account and its first key in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from crosspath.accounts import service as accounts
from crosspath.errors import BadRequest, Conflict, FieldErrors, NotFound
from crosspath.fields import Integer, Invalid, Line, Spec, Text
from crosspath.ids import new_id
from crosspath.store.tables import access_requests
from crosspath.timestamps import utcnow

STATUSES = ("pending", "approved", "rejected")
MAX_REASON = 2000
# A dot-atom local part is not enforced: real addresses are more varied than any regex, and the
# operator replies to a person anyway. The domain must look like a real, public one.
_EMAIL = re.compile(
    r"[^@\s\x00-\x1f\x7f]{1,64}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})"
)


@dataclass(frozen=True)
class Email:
    """An e-mail address, stored trimmed with its domain in lower case."""

    def __call__(self, value: Any) -> str | None:
        text = Line(254)(value)
        if text is not None and _EMAIL.fullmatch(text) is None:
            raise Invalid("must be an e-mail address such as name@company.com")
        if text is None:
            return None
        local, _, domain = text.rpartition("@")
        return f"{local}@{domain.lower()}"

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "email", "maxLength": 254}


FIELDS = {
    "company": Spec(Line(200), required=True, nullable=False, description="Company name."),
    "contact_name": Spec(Line(200), required=True, nullable=False, description="Who to contact."),
    "email": Spec(Email(), required=True, nullable=False, description="Work e-mail address."),
    "platform": Spec(
        Line(300), required=True, nullable=False, description="Platform name or website."
    ),
    "monthly_jds": Spec(
        Integer(1, 1_000_000),
        required=True,
        nullable=False,
        description="Expected number of JDs a month.",
    ),
    "message": Spec(Text(5000), description="Anything else CrossPath should know."),
}


class AccessRequest(msgspec.Struct):
    id: str
    company: str
    contact_name: str
    email: str
    platform: str
    monthly_jds: int
    message: str | None
    status: str
    created_at: str
    decided_at: str | None
    reason: str | None
    partner_id: str | None


class Approval(msgspec.Struct):
    """What an operator hands to the partner: printed once, the key is never stored in clear."""

    partner_id: str
    key_id: str
    key: str


class InvalidAccessRequest(FieldErrors):
    """Every wrong field, by name, so a form can show each message next to its field."""

    def __init__(self, by_field: dict[str, str], unknown: list[str]) -> None:
        super().__init__(
            [f"{name} is not a known field" for name in unknown]
            + [f"{name} {problem}" for name, problem in by_field.items()]
        )
        self.by_field = by_field


def clean(body: Mapping[str, Any]) -> dict[str, Any]:
    """The cleaned fields of a request, or InvalidAccessRequest naming every wrong one."""
    values: dict[str, Any] = {}
    by_field: dict[str, str] = {}
    for name, spec in FIELDS.items():
        value = body.get(name)
        try:
            cleaned = None if value is None else spec.check(value)
        except Invalid as exc:
            by_field[name] = str(exc)
            continue
        if cleaned is None and spec.required:
            by_field[name] = "is required"
        values[name] = cleaned
    unknown = [name for name in body if name not in FIELDS]
    if by_field or unknown:
        raise InvalidAccessRequest(by_field, unknown)
    return values


def create(conn: Connection, body: Mapping[str, Any]) -> AccessRequest:
    values = clean(body)
    request_id, now = new_id("acr"), utcnow()
    conn.execute(
        insert(access_requests).values(id=request_id, status="pending", created_at=now, **values)
    )
    return get(conn, request_id)


def get(conn: Connection, request_id: str) -> AccessRequest:
    row = conn.execute(select(access_requests).where(access_requests.c.id == request_id)).first()
    if row is None:
        raise NotFound(f"There is no access request {request_id}.")
    return _access_request(row)


def list_requests(conn: Connection, status: str | None = None) -> list[AccessRequest]:
    """Oldest first; every request, or those in one status."""
    query = select(access_requests).order_by(access_requests.c.id)
    if status is not None:
        query = query.where(access_requests.c.status == status)
    return [_access_request(row) for row in conn.execute(query)]


def approve(conn: Connection, secret: str, request_id: str) -> Approval:
    """Create the partner account (named after the company) and its first key."""
    request = _decide(conn, request_id, "approved", None)
    partner = accounts.create_partner(conn, request.company)
    issued = accounts.issue_key(conn, secret, partner.id, f"first key ({request_id})")
    conn.execute(
        update(access_requests)
        .where(access_requests.c.id == request_id)
        .values(partner_id=partner.id)
    )
    return Approval(partner_id=partner.id, key_id=issued.id, key=issued.key)


def reject(conn: Connection, request_id: str, reason: str) -> AccessRequest:
    reason = reason.strip()
    if not 1 <= len(reason) <= MAX_REASON:
        raise BadRequest(f"The reason must be 1 to {MAX_REASON} characters.")
    _decide(conn, request_id, "rejected", reason)
    return get(conn, request_id)


def _decide(conn: Connection, request_id: str, status: str, reason: str | None) -> AccessRequest:
    # The condition on `pending` makes the decision once even when two operators race:
    # the second update finds the row already decided and changes nothing.
    changed = conn.execute(
        update(access_requests)
        .where(access_requests.c.id == request_id, access_requests.c.status == "pending")
        .values(status=status, decided_at=utcnow(), reason=reason)
    ).rowcount
    request = get(conn, request_id)
    if changed != 1:
        raise Conflict(
            f"Access request {request_id} was already {request.status} at "
            f"{request.decided_at}; a request is decided once."
        )
    return request


def _access_request(row: Row[Any]) -> AccessRequest:
    return AccessRequest(
        id=row.id,
        company=row.company,
        contact_name=row.contact_name,
        email=row.email,
        platform=row.platform,
        monthly_jds=row.monthly_jds,
        message=row.message,
        status=row.status,
        created_at=row.created_at,
        decided_at=row.decided_at,
        reason=row.reason,
        partner_id=row.partner_id,
    )

"""The rest of the operators' day from the console: access requests, partners and their keys,
reference sets. Each is the feature's own service, and its entry in the audit log, in one
transaction.
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec
from sqlalchemy.engine import Connection

from crosspath.access import service as access_requests
from crosspath.accounts import service as accounts
from crosspath.console import audit
from crosspath.errors import NotFound
from crosspath.references import service as references
from crosspath.references.schema import ReferenceFile


def approve_request(
    conn: Connection, actor: audit.Actor, secret: str, request_id: str
) -> access_requests.Approval:
    approval = access_requests.approve(conn, secret, request_id)
    detail = f"partner {approval.partner_id}, key {approval.key_id}"
    audit.record(conn, actor, "access_request.approve", request_id, detail)
    return approval


def reject_request(
    conn: Connection, actor: audit.Actor, request_id: str, reason: str
) -> access_requests.AccessRequest:
    request = access_requests.reject(conn, request_id, reason)
    audit.record(conn, actor, "access_request.reject", request_id, request.reason)
    return request


def disable_partner(conn: Connection, actor: audit.Actor, partner_id: str) -> accounts.Partner:
    partner = accounts.disable_partner(conn, partner_id)
    audit.record(conn, actor, "partner.disable", partner_id)
    return partner


def issue_key(
    conn: Connection, actor: audit.Actor, secret: str, partner_id: str, label: str | None
) -> accounts.IssuedKey:
    issued = accounts.issue_key(conn, secret, partner_id, label)
    audit.record(conn, actor, "key.issue", issued.id, f"partner {partner_id}")
    return issued


def revoke_key(
    conn: Connection, actor: audit.Actor, partner_id: str, key_id: str
) -> accounts.KeyInfo:
    if key_id not in {key.id for key in accounts.list_keys(conn, partner_id)}:
        raise NotFound(f"Partner {partner_id} has no key {key_id}.")
    info = accounts.revoke_key(conn, key_id)
    audit.record(conn, actor, "key.revoke", key_id, f"partner {partner_id}")
    return info


def load_references(conn: Connection, actor: audit.Actor, data: ReferenceFile) -> dict[str, int]:
    counts = references.load(conn, data)
    detail = f"{data.mode}: {counts['added']} added, {counts['updated']} updated, " + (
        f"{counts['retired']} retired"
    )
    audit.record(conn, actor, "references.load", data.kind, detail)
    return counts


def fingerprint(preview: references.LoadPreview) -> str:
    """Names what an operator saw in a preview, so that only that is applied."""
    return hashlib.sha256(msgspec.json.encode(preview)).hexdigest()


def apply_previewed(
    conn: Connection, actor: audit.Actor, data: ReferenceFile, seen: str
) -> dict[str, int] | references.LoadPreview:
    """Load the file if it still does what its preview showed; else the preview as it is now
    (another load came in between)."""
    now = references.preview(conn, data)
    if not hmac.compare_digest(fingerprint(now), seen):
        return now
    return load_references(conn, actor, data)

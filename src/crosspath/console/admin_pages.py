"""The operators' other pages: access requests, partners and their keys, reference sets, the
audit log. A key is shown once, in the answer to the form that made it, and never again."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy.engine import Connection

from crosspath.access import service as access_requests
from crosspath.accounts import service as accounts
from crosspath.api.deps import EngineDep
from crosspath.console import admin, audit
from crosspath.console.web import (
    ConsoleDep,
    Form,
    FormDep,
    SignedInDep,
    render,
    see_other,
    text_field,
)
from crosspath.errors import BadRequest
from crosspath.references import service as references
from crosspath.references.schema import KINDS, ReferenceFile
from crosspath.store.transaction import read_many, write

AUDIT_PAGE = 100
DONE = {
    "rejected": "The request was rejected.",
    "revoked": "The key was revoked: it is refused from the next request on.",
    "disabled": "The partner was disabled: every one of its keys is refused from now on.",
}


@get("/access-requests")
async def access_requests_page(
    request: Request[Any, Any, Any], engine: EngineDep, signed_in: SignedInDep
) -> Response[str]:
    status = request.query_params.get("status", "pending")
    chosen = status if status in access_requests.STATUSES else None
    rows = await read_many(engine, access_requests.list_requests, chosen)
    done = DONE.get(request.query_params.get("done", ""))
    return render(
        request,
        "access_requests.html",
        signed_in,
        rows=rows,
        status=chosen or "all",
        statuses=access_requests.STATUSES,
        done=done,
    )


@post("/access-requests/{request_id:str}/approve")
async def approve(
    request: Request[Any, Any, Any],
    engine: EngineDep,
    console: ConsoleDep,
    signed_in: SignedInDep,
    form: FormDep,
    request_id: FromPath[str],
) -> Response[str]:
    approval = await write(
        engine, admin.approve_request, signed_in.actor, console.secret, request_id
    )
    stored = await read_many(engine, access_requests.get, request_id)
    return render(
        request,
        "key_shown.html",
        signed_in,
        key=approval.key,
        key_id=approval.key_id,
        partner_id=approval.partner_id,
        access_request=stored,
    )


@post("/access-requests/{request_id:str}/reject")
async def reject(
    engine: EngineDep, signed_in: SignedInDep, form: FormDep, request_id: FromPath[str]
) -> Redirect:
    reason = text_field(form, "reason")
    await write(engine, admin.reject_request, signed_in.actor, request_id, reason)
    return see_other("/console/access-requests?done=rejected")


@get("/partners")
async def partners_page(
    request: Request[Any, Any, Any], engine: EngineDep, signed_in: SignedInDep
) -> Response[str]:
    rows = await read_many(engine, accounts.list_partners)
    return render(request, "partners.html", signed_in, rows=rows)


def _partner(conn: Connection, partner_id: str) -> dict[str, Any]:
    return {
        "partner": accounts.get_partner(conn, partner_id),
        "keys": accounts.list_keys(conn, partner_id),
    }


@get("/partners/{partner_id:str}")
async def partner_page(
    request: Request[Any, Any, Any],
    engine: EngineDep,
    signed_in: SignedInDep,
    partner_id: FromPath[str],
) -> Response[str]:
    found = await read_many(engine, _partner, partner_id)
    done = DONE.get(request.query_params.get("done", ""))
    return render(request, "partner.html", signed_in, done=done, **found)


@post("/partners/{partner_id:str}/keys")
async def issue_key(
    request: Request[Any, Any, Any],
    engine: EngineDep,
    console: ConsoleDep,
    signed_in: SignedInDep,
    form: FormDep,
    partner_id: FromPath[str],
) -> Response[str]:
    label = text_field(form, "label")
    issued = await write(
        engine, admin.issue_key, signed_in.actor, console.secret, partner_id, label
    )
    return render(
        request,
        "key_shown.html",
        signed_in,
        key=issued.key,
        key_id=issued.id,
        partner_id=partner_id,
        access_request=None,
    )


@post("/partners/{partner_id:str}/keys/{key_id:str}/revoke")
async def revoke_key(
    engine: EngineDep,
    signed_in: SignedInDep,
    form: FormDep,
    partner_id: FromPath[str],
    key_id: FromPath[str],
) -> Redirect:
    await write(engine, admin.revoke_key, signed_in.actor, partner_id, key_id)
    return see_other(f"/console/partners/{partner_id}?done=revoked")


@post("/partners/{partner_id:str}/disable")
async def disable_partner(
    engine: EngineDep, signed_in: SignedInDep, form: FormDep, partner_id: FromPath[str]
) -> Redirect:
    await write(engine, admin.disable_partner, signed_in.actor, partner_id)
    return see_other(f"/console/partners/{partner_id}?done=disabled")


@get("/references")
async def references_page(
    request: Request[Any, Any, Any], engine: EngineDep, signed_in: SignedInDep
) -> Response[str]:
    kind = request.query_params.get("kind", "")
    chosen = kind if kind in KINDS else None

    def found(conn: Connection) -> dict[str, Any]:
        items = references.current(conn, chosen) if chosen else []
        return {"counts": references.count_current(conn), "items": items}

    return render(
        request, "references.html", signed_in, kind=chosen, **await read_many(engine, found)
    )


async def _reference_file(form: Form) -> tuple[str, ReferenceFile]:
    """The posted file (an upload, or the text a preview carried on), and what it says."""
    upload = form.get("file")
    if isinstance(upload, UploadFile):
        content = (await upload.read()).decode("utf-8", "replace")
    else:
        content = text_field(form, "content")
    if not content.strip():
        raise BadRequest("Please choose a reference file to load.")
    try:
        return content, msgspec.json.decode(content, type=ReferenceFile)
    except msgspec.DecodeError as exc:
        raise BadRequest(f"This is not a valid reference file: {exc}.") from None


@post("/references/preview")
async def preview_references(
    request: Request[Any, Any, Any], engine: EngineDep, signed_in: SignedInDep, form: FormDep
) -> Response[str]:
    content, data = await _reference_file(form)
    preview = await read_many(engine, references.preview, data)
    return _preview_page(request, signed_in, content, preview, changed=False)


def _preview_page(
    request: Request[Any, Any, Any],
    signed_in: Any,
    content: str,
    preview: references.LoadPreview,
    *,
    changed: bool,
) -> Response[str]:
    return render(
        request,
        "references_preview.html",
        signed_in,
        content=content,
        preview=preview,
        fingerprint=admin.fingerprint(preview),
        changed=changed,
    )


@post("/references/apply")
async def apply_references(
    request: Request[Any, Any, Any], engine: EngineDep, signed_in: SignedInDep, form: FormDep
) -> Response[str]:
    content, data = await _reference_file(form)
    seen = text_field(form, "fingerprint")
    outcome = await write(engine, admin.apply_previewed, signed_in.actor, data, seen)
    if isinstance(outcome, references.LoadPreview):
        return _preview_page(request, signed_in, content, outcome, changed=True)
    return render(
        request, "references_loaded.html", signed_in, kind=data.kind, mode=data.mode, counts=outcome
    )


@get("/audit")
async def audit_page(
    request: Request[Any, Any, Any], engine: EngineDep, signed_in: SignedInDep
) -> Response[str]:
    before = request.query_params.get("before") or None
    record_id = request.query_params.get("record") or None
    rows = await read_many(
        engine,
        lambda conn: audit.entries(conn, limit=AUDIT_PAGE, before=before, record_id=record_id),
    )
    older = rows[-1].id if len(rows) == AUDIT_PAGE else None
    return render(request, "audit.html", signed_in, rows=rows, older=older, record_id=record_id)


ROUTES = [
    access_requests_page,
    approve,
    reject,
    partners_page,
    partner_page,
    issue_key,
    revoke_key,
    disable_partner,
    references_page,
    preview_references,
    apply_references,
    audit_page,
]

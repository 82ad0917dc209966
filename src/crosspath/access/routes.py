"""The portal's "Get API Access" form and the public endpoint it sends to.

`POST /access-requests` takes JSON (answered in JSON) or a form post from the page (answered with
the page). Every post counts against a small per-client limit. A form post must also pass a
simple anti-spam check: a honeypot field people never see, and a minimum time between opening
the form and sending it. Nothing a person typed is lost: whatever stops a form post, the page
comes back with every value in place and says why.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from typing import Any
from urllib.parse import parse_qsl

from litestar import MediaType, Request, Response, get, post
from litestar.params import FromPath, RawBody
from litestar.response import Redirect
from sqlalchemy import Engine

from crosspath.access import service as access_requests
from crosspath.access.service import AccessRequest, InvalidAccessRequest
from crosspath.api.deps import EngineDep, json_object
from crosspath.api.ratelimit import Decision
from crosspath.errors import AppError, TooManyRequests, UnsupportedMediaType
from crosspath.portal.pages import Portal, PortalDep, render
from crosspath.store.engine import is_outage
from crosspath.store.transaction import read_many, write

log = logging.getLogger("crosspath.access_requests")

FORM_TYPE = "application/x-www-form-urlencoded"
HONEYPOT = "leave_blank"
OPENED = "opened"  # when the form was opened, signed
TOKEN_MAX_AGE = 24 * 3600
LABELS = {
    "company": "Company",
    "contact_name": "Contact name",
    "email": "Work e-mail",
    "platform": "Platform or website",
    "monthly_jds": "Expected number of JDs a month",
    "message": "Anything else",
}


def form_token(secret: str, issued: int) -> str:
    """When the form was opened, signed so it cannot be made up."""
    return f"{issued}.{_signature(secret, issued)}"


def token_age(secret: str, token: str, now: float) -> float | None:
    """Seconds since the form was opened, or None for a token this service did not make."""
    issued, _, signature = token.partition(".")
    if not issued.isascii() or not issued.isdigit():
        return None
    if not hmac.compare_digest(signature, _signature(secret, int(issued))):
        return None
    age = now - int(issued)
    return age if 0 <= age <= TOKEN_MAX_AGE else None


def _signature(secret: str, issued: int) -> str:
    message = f"crosspath-access-form:{issued}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def client_of(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


async def store(engine: Engine, body: dict[str, Any]) -> AccessRequest:
    stored = await write(engine, access_requests.create, body)
    log.info("access request %s received", stored.id)
    return stored


@get("/get-access", include_in_schema=False, sync_to_thread=False)
def access_form(request: Request[Any, Any, Any], portal: PortalDep) -> Response[str]:
    """The "Get API Access" form."""
    return form_page(request, portal, {}, token=form_token(portal.secret, int(time.time())))


def form_page(
    request: Request[Any, Any, Any],
    portal: Portal,
    values: dict[str, str],
    *,
    token: str,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    messages = {name: f"{LABELS[name]} {problem}." for name, problem in (errors or {}).items()}
    return render(
        request,
        "get_access.html",
        status_code=status_code,
        headers=headers,
        values=values,
        errors=messages,
        notice=notice,
        token=token,
        labels=LABELS,
        honeypot=HONEYPOT,
        token_field=OPENED,
    )


@post("/access-requests", include_in_schema=False, status_code=201)
async def submit_access_request(
    request: Request[Any, Any, Any], body: RawBody, engine: EngineDep, portal: PortalDep
) -> Response[Any]:
    """Ask CrossPath for a partner account and an API key."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("application/json", FORM_TYPE):
        raise UnsupportedMediaType(
            f"Content-Type must be application/json or {FORM_TYPE}.",
        )
    decision: Decision = await portal.limiter.check(f"access-requests:{client_of(request)}")
    if media_type == FORM_TYPE:
        return await submit_form(request, body, engine, portal, decision)
    if not decision.allowed:
        raise TooManyRequests(_too_many(portal, decision), {"Retry-After": str(decision.reset)})
    stored = await store(engine, json_object(request, body))
    return Response(stored, status_code=201, media_type=MediaType.JSON)


def _too_many(portal: Portal, decision: Decision) -> str:
    limiter = portal.limiter
    return (
        f"Too many access requests from your address: at most {limiter.limit} in "
        f"{_duration(limiter.window)}. Please try again in {_duration(decision.reset)}."
    )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{math.ceil(seconds)} seconds"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"


async def submit_form(
    request: Request[Any, Any, Any],
    body: bytes,
    engine: Engine,
    portal: Portal,
    decision: Decision,
) -> Response[Any]:
    form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    values = {name: form.get(name, "") for name in access_requests.FIELDS}
    token = form.get(OPENED, "")

    def again(
        status_code: int,
        notice: str | None,
        errors: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response[str]:
        """The form again, with every value as sent, and why it was not stored."""
        return form_page(
            request,
            portal,
            values,
            token=token,
            errors=errors,
            notice=notice,
            status_code=status_code,
            headers=headers,
        )

    if not decision.allowed:
        return again(429, _too_many(portal, decision), headers={"Retry-After": str(decision.reset)})
    notice = None
    age = token_age(portal.secret, token, time.time())
    if form.get(HONEYPOT):
        notice = (
            "A field meant to catch automated submissions was filled in, perhaps by your "
            "browser. Please check your entries and send the form again."
        )
    elif age is None:
        token = form_token(portal.secret, int(time.time()))
        notice = "This form had expired. Please check your entries and send it again."
    elif age < portal.form_min_seconds:
        notice = (
            "The form was sent within seconds of being opened, as automated spam is. "
            "Please check your entries and send it again."
        )
    fields = _typed(values)
    try:
        if notice is not None:
            access_requests.clean(fields)  # only to list the wrong fields too
            return again(400, notice)
        stored = await store(engine, fields)
    except InvalidAccessRequest as exc:
        return again(400, notice, exc.by_field)
    except AppError:
        raise
    except Exception as exc:
        if not is_outage(exc):
            raise
        log.error("access request not stored, database unavailable: %s", exc)
        notice = (
            "Your request could not be saved just now: nothing was stored. "
            "Please send it again in a minute."
        )
        return again(503, notice, headers={"Retry-After": "5"})
    return Redirect(f"/access-requests/{stored.id}", status_code=303)


def _typed(values: dict[str, str]) -> dict[str, Any]:
    """The form's strings as the JSON body would carry them: a number as a number."""
    fields: dict[str, Any] = {name: value for name, value in values.items() if value.strip()}
    jds = fields.get("monthly_jds", "").strip()
    if jds.isascii() and jds.isdigit():
        fields["monthly_jds"] = int(jds)
    return fields


@get("/access-requests/{request_id:str}", include_in_schema=False)
async def access_request_page(
    request: Request[Any, Any, Any], request_id: FromPath[str], engine: EngineDep
) -> Response[str]:
    """The confirmation page of a request, which also shows where it stands."""
    try:
        stored = await read_many(engine, access_requests.get, request_id)
    except AppError:
        return render(request, "access_request.html", status_code=404, stored=None, labels=LABELS)
    return render(request, "access_request.html", stored=stored, labels=LABELS)


ROUTES = [access_form, submit_access_request, access_request_page]

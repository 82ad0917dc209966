"""How the console's pages are served: rendering, the session cookie, the CSRF check, and what
a page answers without a session (a redirect to sign-in) or with a bad form (403).

Every page carries a Content-Security-Policy that allows no script at all, and styles and
images only from the service itself: the JD descriptions shown here come from partners.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from litestar import MediaType, Request, Response
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Redirect

from crosspath.api.deps import EngineDep
from crosspath.console import sessions
from crosspath.console.audit import Actor
from crosspath.errors import AppError
from crosspath.settings import Settings
from crosspath.store.transaction import read, write
from crosspath.timestamps import utcnow

TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "crosspath_console"
SIGN_IN_COOKIE = "crosspath_console_sign_in"
CSRF_FIELD = "csrf_token"
SIGN_IN = "/console/login"
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
_NEXT = re.compile(r"/console(?:/[A-Za-z0-9_./?=&%+-]*)?")

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class Console:
    """What the pages need from the settings. A plain class: Litestar hands it on as it is."""

    def __init__(self, settings: Settings) -> None:
        self.secret = settings.secret_key
        self.idle = timedelta(minutes=settings.console_idle_minutes)
        self.secure_cookies = settings.is_production


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The operator behind a request, the CSRF token of their session, and the audit's actor."""

    session: sessions.Session
    csrf_token: str
    actor: Actor


ConsoleDep = NamedDependency[Console]
SignedInDep = NamedDependency[SignedIn]
Form = dict[str, Any]
FormDep = NamedDependency[Form]


class SignInRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__("sign-in required")
        self.next_path = next_path


class CsrfRefused(Exception):
    """A state-changing request without the form token of its session."""


def client_of(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(value: str) -> str:
    """Where to go after signing in: a console page, never another site or the sign-in page."""
    if _NEXT.fullmatch(value) and "//" not in value and not value.startswith(SIGN_IN):
        return value
    return "/console"


async def provide_signed_in(
    request: Request[Any, Any, Any], engine: EngineDep, console: ConsoleDep
) -> SignedIn:
    token = request.cookies.get(SESSION_COOKIE, "")
    session = await read(engine, sessions.find, token, console.idle) if token else None
    if session is None:
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(wanted if request.method == "GET" else "/console")
    if sessions.needs_touch(session, utcnow()):
        await write(engine, sessions.touch, session)
    return SignedIn(
        session=session,
        csrf_token=sessions.form_token(console.secret, "session", token),
        actor=Actor(session.email, client_of(request)),
    )


async def provide_form(request: Request[Any, Any, Any], signed_in: SignedInDep) -> Form:
    """The posted form, once its CSRF token is that of the session."""
    form = dict((await request.form()).items())
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, signed_in.csrf_token):
        raise CsrfRefused()
    return form


def text_field(form: Form, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def render(
    request: Request[Any, Any, Any],
    template: str,
    signed_in: SignedIn | None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Response[str]:
    html = _environment.get_template(template).render(
        path=request.url.path, signed_in=signed_in, csrf_field=CSRF_FIELD, **context
    )
    return Response(
        html,
        status_code=status_code,
        media_type=MediaType.HTML,
        headers=PAGE_HEADERS | (headers or {}),
        cookies=cookies,
    )


def see_other(path: str, cookies: list[Cookie] | None = None) -> Redirect:
    return Redirect(path, status_code=303, headers=PAGE_HEADERS, cookies=cookies)


def cookie(console: Console, name: str, value: str) -> Cookie:
    """Only for the console's pages, never readable by a script, never sent from another site."""
    return Cookie(
        key=name,
        value=value,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=console.secure_cookies,
    )


def removed(console: Console, name: str) -> Cookie:
    gone = cookie(console, name, "")
    gone.max_age, gone.expires = 0, 0
    return gone


def to_sign_in(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    target = SIGN_IN if exc.next_path == "/console" else f"{SIGN_IN}?next={quote(exc.next_path)}"
    return see_other(target)


def refused(request: Request[Any, Any, Any], exc: CsrfRefused) -> Response[str]:
    message = (
        "This form has expired or did not come from this console, so nothing was changed. "
        "Go back, reload the page and try again."
    )
    return render(request, "error.html", None, status_code=403, message=message)


def error_page(request: Request[Any, Any, Any], exc: AppError) -> Response[str]:
    return render(
        request, "error.html", None, exc.status_code, headers=exc.headers, message=exc.message
    )


EXCEPTION_HANDLERS: Any = {
    SignInRequired: to_sign_in,
    CsrfRefused: refused,
    AppError: error_page,
}

"""The console under /console: signing in and out, and the router that holds every page.

Nothing here is in the OpenAPI document: the console is CrossPath's, not the partners'.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect

from crosspath.api.deps import EngineDep
from crosspath.console import admin_pages, review_pages, sessions, signin
from crosspath.console.web import (
    CSRF_FIELD,
    EXCEPTION_HANDLERS,
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    Console,
    ConsoleDep,
    FormDep,
    SignedInDep,
    client_of,
    cookie,
    provide_form,
    provide_signed_in,
    removed,
    render,
    safe_next,
    see_other,
)
from crosspath.errors import Forbidden, TooManyRequests
from crosspath.settings import Settings
from crosspath.store.transaction import write

SIGNED_OUT = "You are signed out."
EXPIRED_FORM = "The sign-in form had expired, so nothing was sent. Please sign in again."


def sign_in_form(
    request: Request[Any, Any, Any],
    console: Console,
    *,
    next_path: str,
    email: str = "",
    message: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """The sign-in form, with a token bound to the browser's sign-in cookie (set here when
    the browser has none): the form's CSRF protection before any session exists."""
    token = request.cookies.get(SIGN_IN_COOKIE, "")
    cookies = []
    if len(token) != len(sessions.new_token()):
        token = sessions.new_token()
        cookies.append(cookie(console, SIGN_IN_COOKIE, token))
    return render(
        request,
        "sign_in.html",
        None,
        status_code=status_code,
        headers=headers,
        cookies=cookies,
        form_token=sessions.form_token(console.secret, "sign-in", token),
        next_path=next_path,
        email=email,
        message=message,
        notice=notice,
        limits={
            "account": signin.ACCOUNT_LIMIT,
            "client": signin.CLIENT_LIMIT,
            "minutes": int(signin.WINDOW.total_seconds() // 60),
        },
    )


@get("/login", sync_to_thread=False)
def sign_in_page(request: Request[Any, Any, Any], console: ConsoleDep) -> Response[str]:
    notice = SIGNED_OUT if request.query_params.get("signed_out") else None
    next_path = safe_next(request.query_params.get("next", ""))
    return sign_in_form(request, console, next_path=next_path, notice=notice)


@post("/login", status_code=303)
async def sign_in(
    request: Request[Any, Any, Any], engine: EngineDep, console: ConsoleDep
) -> Response[Any]:
    form = dict((await request.form()).items())
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    next_path = safe_next(str(form.get("next", "")))
    browser_token = request.cookies.get(SIGN_IN_COOKIE, "")
    expected = sessions.form_token(console.secret, "sign-in", browser_token)
    try:
        if not browser_token or not hmac.compare_digest(str(form.get(CSRF_FIELD, "")), expected):
            raise Forbidden(EXPIRED_FORM)
        token = await signin.sign_in(engine, email, password, client_of(request))
    except (Forbidden, signin.WrongCredentials, TooManyRequests) as exc:
        return sign_in_form(
            request,
            console,
            next_path=next_path,
            email=email,
            message=exc.message,
            status_code=exc.status_code,
            headers=exc.headers,
        )
    return see_other(
        next_path,
        cookies=[cookie(console, SESSION_COOKIE, token), removed(console, SIGN_IN_COOKIE)],
    )


@post("/logout", status_code=303)
async def sign_out(
    engine: EngineDep, console: ConsoleDep, signed_in: SignedInDep, form: FormDep
) -> Redirect:
    await write(engine, signin.sign_out, signed_in.session, signed_in.actor)
    return see_other("/console/login?signed_out=1", cookies=[removed(console, SESSION_COOKIE)])


def router(settings: Settings) -> Router:
    console = Console(settings)

    def provide_console() -> Console:
        return console

    return Router(
        "/console",
        route_handlers=[sign_in_page, sign_in, sign_out, *review_pages.ROUTES, *admin_pages.ROUTES],
        dependencies={
            "console": Provide(provide_console, sync_to_thread=False),
            "signed_in": Provide(provide_signed_in),
            "form": Provide(provide_form),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    )

"""The application: composes the features under both partner base paths, behind the edge."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from os import PathLike
from pathlib import Path
from typing import Any, cast

from litestar import Litestar, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Server
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router
from litestar.utils import normalize_path
from sqlalchemy import Engine, text

from crosspath.access import routes as access
from crosspath.accounts import keys
from crosspath.api import openapi
from crosspath.api.deps import EngineDep, provide_caller, provide_engine, provide_settings
from crosspath.api.edge import ASGIApp, Edge
from crosspath.api.errors import handle_exception
from crosspath.api.logs import configure_logging
from crosspath.api.ratelimit import make_limiter
from crosspath.companies import routes as companies
from crosspath.console import routes as console
from crosspath.errors import MAX_BODY_BYTES
from crosspath.events import routes as events
from crosspath.missions import routes as missions
from crosspath.portal import pages as portal
from crosspath.references import routes as references
from crosspath.settings import Settings
from crosspath.store.engine import make_engine
from crosspath.store.transaction import read
from crosspath.webhooks import routes as webhooks

PARTNER_FEATURES = (companies, missions, references, events, webhooks)
PARTNER_ROUTES = [route for feature in PARTNER_FEATURES for route in feature.ROUTES]
STATIC: list[Path | PathLike[Any] | str] = [
    Path(portal.__file__).parent / "static",
    Path(openapi.__file__).parent / "static",
    Path(console.__file__).parent / "static",
]


@get("/healthz", tags=["Operations"], summary="Liveness")
async def healthz() -> dict[str, str]:
    """The process is alive. Never waits for the database."""
    return {"status": "ok"}


@get("/readyz", tags=["Operations"], summary="Readiness")
async def readyz(engine: EngineDep) -> dict[str, str]:
    """The database is reachable."""
    await read(engine, lambda conn: conn.execute(text("SELECT 1")))
    return {"status": "ready"}


def build_litestar(
    settings: Settings, engine: Engine, on_shutdown: Sequence[Callable[[], Awaitable[None]]] = ()
) -> Litestar:
    dependencies = {
        "caller": Provide(provide_caller, sync_to_thread=False),
        # One engine for the app's life: resolved once, then served from Litestar's cache.
        "engine": Provide(provide_engine, use_cache=True, sync_to_thread=False),
        "portal": Provide(portal.provide_portal, sync_to_thread=False),
        "settings": Provide(provide_settings, use_cache=True, sync_to_thread=False),
    }
    pages = portal.Portal(settings)
    return Litestar(
        route_handlers=[
            Router("/partners/v1", route_handlers=PARTNER_ROUTES),
            Router("/partners/hunteron/v1", route_handlers=PARTNER_ROUTES, include_in_schema=False),
            healthz,
            readyz,
            openapi.docs_page,
            *portal.ROUTES,
            *access.ROUTES,
            console.router(settings),
            create_static_files_router("/static", directories=STATIC, include_in_schema=False),
        ],
        dependencies=dependencies,
        exception_handlers={Exception: handle_exception},
        request_max_body_size=MAX_BODY_BYTES,
        state=State({"engine": engine, "portal": pages, "settings": settings}),
        openapi_config=OpenAPIConfig(
            title="CrossPath Recruitment API",
            version="1.1.0",
            description=openapi.DESCRIPTION,
            servers=[Server(url="/")],
            use_handler_docstrings=True,
            path="/openapi.json",
            render_plugins=[openapi.DocumentPlugin([f.DOCUMENT for f in PARTNER_FEATURES])],
        ),
        logging_config=None,
        on_shutdown=[*on_shutdown, pages.limiter.close],
    )


METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def methods_by_path(app: Litestar) -> Callable[[str], tuple[str, ...] | None]:
    """What the router knows of a path: every method it serves there (HEAD wherever GET is, and
    OPTIONS), or None when no route of the app matches it (the app answers 404 or serves a mount).

    Litestar's own OPTIONS answer can miss the methods of handlers registered after the first one
    on a path, and its 405 leaves out HEAD (which the edge answers), so the edge asks here."""
    served: dict[str, tuple[str, ...]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            methods = set(route.methods) | {"OPTIONS"}
            if "GET" in methods:
                methods.add("HEAD")
            served[route.path_format] = tuple(m for m in METHOD_ORDER if m in methods) + tuple(
                sorted(methods - set(METHOD_ORDER))
            )
    router = app.asgi_router

    def lookup(path: str) -> tuple[str, ...] | None:
        try:
            template = router.handle_routing(path=normalize_path(path), method="OPTIONS")[4]
        except HTTPException:  # no route, or none for HTTP
            return None
        return served.get(template)

    return lookup


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Any:
    """The ASGI application: the Litestar app behind the edge."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    engine = engine or make_engine(settings.database_url, settings.db_pool_size)
    limiter = make_limiter(settings.redis_url, settings.rate_limit, settings.rate_limit_window)
    app = build_litestar(settings, engine, on_shutdown=[limiter.close])
    return Edge(
        cast(ASGIApp, app),
        engine,
        limiter,
        authenticate=partial(keys.authenticate, engine, settings.secret_key),
        needs_touch=keys.needs_touch,
        touch=partial(keys.touch_key, engine),
        methods=methods_by_path(app),
    )

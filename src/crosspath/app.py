"""The application: both partner base paths, health checks, the API reference, error handling."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, cast

from litestar import Litestar, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Server
from litestar.static_files import create_static_files_router
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from crosspath import access_form, companies, missions, openapi, portal, references
from crosspath.db import make_engine
from crosspath.errors import MAX_BODY_BYTES, UNAVAILABLE, ServiceUnavailable, handle_exception
from crosspath.gate import ASGIApp, Gate, configure_logging
from crosspath.ratelimit import make_limiter
from crosspath.settings import Settings
from crosspath.web import EngineDep, provide_caller, provide_engine

PARTNER_ROUTES = [*companies.ROUTES, *missions.ROUTES, *references.ROUTES]
STATIC = Path(__file__).parent / "static"


@get("/healthz", tags=["Operations"], sync_to_thread=False, summary="Liveness")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@get("/readyz", tags=["Operations"], sync_to_thread=True, summary="Readiness")
def readyz(engine: EngineDep) -> dict[str, str]:
    """The database is reachable."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        raise ServiceUnavailable(UNAVAILABLE) from None
    return {"status": "ready"}


def build_litestar(
    settings: Settings, engine: Engine, on_shutdown: Sequence[Callable[[], Awaitable[None]]] = ()
) -> Litestar:
    dependencies = {
        "caller": Provide(provide_caller, sync_to_thread=False),
        "engine": Provide(provide_engine, sync_to_thread=False),
        "portal": Provide(portal.provide_portal, sync_to_thread=False),
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
            *access_form.ROUTES,
            create_static_files_router("/static", directories=[STATIC], include_in_schema=False),
        ],
        dependencies=dependencies,
        exception_handlers={Exception: handle_exception},
        request_max_body_size=MAX_BODY_BYTES,
        state=State({"engine": engine, "portal": pages}),
        openapi_config=OpenAPIConfig(
            title="CrossPath Recruitment API",
            version="1.0.0",
            description=openapi.DESCRIPTION,
            servers=[Server(url="/")],
            use_handler_docstrings=True,
            path="/openapi.json",
            render_plugins=[openapi.DocumentPlugin()],
        ),
        logging_config=None,
        on_shutdown=[*on_shutdown, pages.limiter.close],
    )


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> Any:
    """The ASGI application: the Litestar app behind the partner gate."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    engine = engine or make_engine(settings.database_url, settings.db_pool_size)
    limiter = make_limiter(settings.redis_url, settings.rate_limit, settings.rate_limit_window)
    app = build_litestar(settings, engine, on_shutdown=[limiter.close])
    return Gate(cast(ASGIApp, app), engine, settings, limiter)

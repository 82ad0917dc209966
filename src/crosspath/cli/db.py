"""`crosspath db` and `crosspath serve`: the schema, and the server."""

from __future__ import annotations

import click

from crosspath.cli.context import Context, emit, json_option, pass_context
from crosspath.cli.demo import seed_demo
from crosspath.cli.worker import start_beside, stop_beside
from crosspath.references import service as references
from crosspath.store.migrate import upgrade


@click.group("db")
def db_group() -> None:
    """The database schema."""


def prepare(ctx: Context) -> tuple[str | None, str | None, list[str]]:
    """Run pending migrations and install the default reference sets where none exist."""
    before, after = upgrade(ctx.engine)
    with ctx.write() as conn:
        return before, after, references.install_defaults(conn)


@db_group.command("upgrade")
@json_option
@pass_context
def db_upgrade(ctx: Context, as_json: bool) -> None:
    """Create the database or run pending migrations."""
    before, after, loaded = prepare(ctx)
    if before is None:
        status, said = "created", f"Created the database schema (revision {after})."
    elif before != after:
        status, said = "migrated", f"Migrated the database from revision {before} to {after}."
    else:
        status, said = "up to date", f"The database is already up to date (revision {after})."
    installed = f" Installed reference sets: {', '.join(loaded)}." if loaded else ""
    result = {"status": status, "revision": after, "references_installed": loaded}
    emit(as_json, result, lambda: said + installed)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--demo", is_flag=True, help="On an empty database, create a demo partner and key.")
@click.option(
    "--worker/--no-worker",
    "with_worker",
    default=True,
    show_default=True,
    help="Run a webhook delivery worker beside the server, in its own process.",
)
@pass_context
def serve(ctx: Context, host: str, port: int, workers: int, demo: bool, with_worker: bool) -> None:
    """Run pending migrations, then serve the API (and deliver webhooks, unless --no-worker)."""
    from granian.constants import Interfaces
    from granian.server import Server

    prepare(ctx)
    base = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"  # noqa: S104
    if demo:
        with ctx.write() as conn:
            key = seed_demo(conn, ctx.settings.secret_key)
        click.echo(demo_banner(base, key.key if key else None))
    click.echo(
        f"Serving the CrossPath Recruitment API on {base} (portal: {base}/, docs: {base}/docs)",
        err=True,
    )
    if workers > 1 and not ctx.settings.redis_url:
        click.echo(
            "Note: without CROSSPATH_REDIS_URL each worker counts the rate limit on its own.",
            err=True,
        )
    delivering = start_beside(ctx.settings) if with_worker else None
    try:
        Server(
            "crosspath.api.app:create_app",
            address=host,
            port=port,
            workers=workers,
            interface=Interfaces.ASGI,
            factory=True,
            log_enabled=False,
        ).serve()
    finally:
        if delivering is not None:
            stop_beside(delivering, ctx.settings)


def demo_banner(base: str, key: str | None) -> str:
    if key is None:
        return (
            "The database already has partners, so no demo data was created.\n"
            "Issue a key with: crosspath keys issue PARTNER_ID (see crosspath partners list)."
        )
    return (
        "Demo partner created. Its API key (shown once):\n\n"
        f"  {key}\n\n"
        "Try a first call:\n\n"
        f"  curl -H 'Authorization: Apikey {key}' {base}/partners/v1/missions\n"
    )

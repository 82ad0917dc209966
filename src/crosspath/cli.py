"""`crosspath`: the operators' command line. Every command that prints takes --json."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import msgspec
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from crosspath import access_requests, accounts, db, missions, references
from crosspath.demo import seed_demo
from crosspath.errors import AppError
from crosspath.settings import Settings, SettingsError

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")


class Context:
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._engine: Engine | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = db.make_engine(self.settings.database_url, self.settings.db_pool_size)
        return self._engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with db.transaction(self.engine, write=True) as conn:
            yield conn


pass_context = click.make_pass_decorator(Context, ensure=True)


def emit(as_json: bool, data: Any, human: Callable[[], str]) -> None:
    if as_json:
        click.echo(msgspec.json.encode(data).decode())
    else:
        click.echo(human())


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def table(rows: list[Any], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    cells = [
        ["-" if getattr(row, column) is None else str(getattr(row, column)) for column in columns]
        for row in rows
    ]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Operate the CrossPath Recruitment API: database, partners, keys, references, reviews.

    Configuration comes from CROSSPATH_* environment variables (see the README).
    """


# Database and server


@cli.group("db")
def db_group() -> None:
    """The database schema."""


def prepare(ctx: Context) -> list[str]:
    """Run pending migrations and install the default reference sets where none exist."""
    db.upgrade(ctx.engine)
    with ctx.write() as conn:
        return references.install_defaults(conn)


@db_group.command("upgrade")
@json_option
@pass_context
def db_upgrade(ctx: Context, as_json: bool) -> None:
    """Create the database or run pending migrations."""
    loaded = prepare(ctx)
    installed = f" Installed reference sets: {', '.join(loaded)}." if loaded else ""
    result = {"status": "up to date", "references_installed": loaded}
    emit(as_json, result, lambda: "Database up to date." + installed)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--demo", is_flag=True, help="On an empty database, create a demo partner and key.")
@pass_context
def serve(ctx: Context, host: str, port: int, workers: int, demo: bool) -> None:
    """Run pending migrations, then serve the API."""
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
    Server(
        "crosspath.app:create_app",
        address=host,
        port=port,
        workers=workers,
        interface=Interfaces.ASGI,
        factory=True,
        log_enabled=False,
    ).serve()


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


# Partners and keys


@cli.group("partners")
def partners_group() -> None:
    """Partner accounts."""


@partners_group.command("create")
@click.argument("name")
@json_option
@pass_context
def partners_create(ctx: Context, name: str, as_json: bool) -> None:
    """Create a partner account."""
    with ctx.write() as conn:
        partner = accounts.create_partner(conn, name)
    emit(
        as_json,
        {"id": partner.id, "name": partner.name},
        lambda: f"Created partner {partner.id} ({partner.name}).",
    )


@partners_group.command("list")
@json_option
@pass_context
def partners_list(ctx: Context, as_json: bool) -> None:
    """List partner accounts."""
    with ctx.write() as conn:
        rows = accounts.list_partners(conn)
    emit(as_json, rows, lambda: table(rows, ["id", "name", "created_at", "disabled_at"]))


@partners_group.command("disable")
@click.argument("partner_id")
@json_option
@pass_context
def partners_disable(ctx: Context, partner_id: str, as_json: bool) -> None:
    """Disable a partner: all its keys are refused from the next request on."""
    with ctx.write() as conn:
        partner = accounts.disable_partner(conn, partner_id)
    emit(as_json, partner, lambda: f"Disabled partner {partner.id}; its keys no longer work.")


@cli.group("keys")
def keys_group() -> None:
    """API keys."""


@keys_group.command("issue")
@click.argument("partner_id")
@click.option("--label", help="What the key is for, e.g. 'production'.")
@json_option
@pass_context
def keys_issue(ctx: Context, partner_id: str, label: str | None, as_json: bool) -> None:
    """Issue a key. It is printed once and never stored in clear."""
    with ctx.write() as conn:
        issued = accounts.issue_key(conn, ctx.settings.secret_key, partner_id, label)
    emit(
        as_json,
        issued,
        lambda: f"Issued key {issued.id} for {issued.partner_id} (shown once):\n{issued.key}",
    )


@keys_group.command("list")
@click.argument("partner_id")
@json_option
@pass_context
def keys_list(ctx: Context, partner_id: str, as_json: bool) -> None:
    """List a partner's keys (no secrets)."""
    with ctx.write() as conn:
        rows = accounts.list_keys(conn, partner_id)
    columns = ["id", "prefix", "label", "created_at", "last_used_at", "revoked_at"]
    emit(as_json, rows, lambda: table(rows, columns))


@keys_group.command("revoke")
@click.argument("key_id")
@json_option
@pass_context
def keys_revoke(ctx: Context, key_id: str, as_json: bool) -> None:
    """Revoke a key: refused from the next request on."""
    with ctx.write() as conn:
        info = accounts.revoke_key(conn, key_id)
    emit(as_json, info, lambda: f"Revoked key {info.id} ({info.prefix}…).")


# Reference values


@cli.group("references")
def references_group() -> None:
    """Accepted reference values."""


@references_group.command("list")
@click.argument("kind", required=False, type=click.Choice(references.KINDS))
@json_option
@pass_context
def references_list(ctx: Context, kind: str | None, as_json: bool) -> None:
    """List current values of one kind, or count the values of every kind."""
    with ctx.write() as conn:
        if kind is None:
            counts = references.count_current(conn)
            emit(as_json, counts, lambda: "\n".join(f"{k}: {n}" for k, n in counts.items()))
            return
        items = references.current(conn, kind)
    emit(as_json, items, lambda: table(items, ["code", "label", "country"]))


@references_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_context
def references_load(ctx: Context, file: Path, as_json: bool) -> None:
    """Load a file {"kind", "mode": "replace" | "extend", "values": [{"code", "label"}]}."""
    try:
        data = msgspec.json.decode(file.read_bytes(), type=references.ReferenceFile)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise click.ClickException(f"{file} is not a valid reference file: {exc}") from None
    with ctx.write() as conn:
        counts = references.load(conn, data)
    result = {"kind": data.kind, "mode": data.mode, **counts}
    emit(
        as_json,
        result,
        lambda: (
            f"{data.kind}: {counts['added']} added, "
            f"{counts['updated']} updated, {counts['retired']} retired."
        ),
    )


# Missions review


@cli.group("missions")
def missions_group() -> None:
    """Review partners' missions."""


@missions_group.command("list")
@click.option(
    "--status",
    type=click.Choice([*missions.STATUSES, "all"]),
    default="private",
    show_default=True,
    help="'private' lists the missions awaiting review.",
)
@json_option
@pass_context
def missions_list(ctx: Context, status: str, as_json: bool) -> None:
    """List missions of every partner, oldest first."""
    with ctx.write() as conn:
        rows = missions.list_for_review(conn, None if status == "all" else status)
    columns = ["id", "partner_id", "status", "title", "created_at"]
    emit(as_json, rows, lambda: table(rows, columns))


@missions_group.command("set-status")
@click.argument("mission_id")
@click.argument("status", type=click.Choice(missions.STATUSES))
@json_option
@pass_context
def missions_set_status(ctx: Context, mission_id: str, status: str, as_json: bool) -> None:
    """Publish (live), close or reopen (private or live) a mission."""
    with ctx.write() as conn:
        mission = missions.set_status(conn, mission_id, status)
    emit(as_json, mission, lambda: f"Mission {mission.id} is now {mission.status}.")


# Access requests from the portal


@cli.group("access-requests")
def access_requests_group() -> None:
    """Requests for API access sent from the portal's "Get API Access" form."""


@access_requests_group.command("list")
@click.option("--status", type=click.Choice(access_requests.STATUSES), help="Only this status.")
@json_option
@pass_context
def access_requests_list(ctx: Context, status: str | None, as_json: bool) -> None:
    """List access requests, oldest first."""
    with ctx.write() as conn:
        rows = access_requests.list_requests(conn, status)
    columns = ["id", "status", "company", "contact_name", "email", "monthly_jds", "created_at"]
    emit(as_json, rows, lambda: table(rows, columns))


@access_requests_group.command("approve")
@click.argument("request_id")
@json_option
@pass_context
def access_requests_approve(ctx: Context, request_id: str, as_json: bool) -> None:
    """Approve a pending request: create the partner account and its first key (printed once)."""
    with ctx.write() as conn:
        approval = access_requests.approve(conn, ctx.settings.secret_key, request_id)
        request = access_requests.get(conn, request_id)
    emit(
        as_json,
        approval,
        lambda: (
            f"Approved {request_id}: created partner {approval.partner_id} ({request.company}).\n"
            f"Send {request.contact_name} <{request.email}> the partner id and this API key "
            f"(shown once, key id {approval.key_id}):\n\n  {approval.key}\n"
        ),
    )


@access_requests_group.command("reject")
@click.argument("request_id")
@click.option("--reason", required=True, help="Why, for the record.")
@json_option
@pass_context
def access_requests_reject(ctx: Context, request_id: str, reason: str, as_json: bool) -> None:
    """Reject a pending request, with a reason kept on its record."""
    with ctx.write() as conn:
        request = access_requests.reject(conn, request_id, reason)
    emit(as_json, request, lambda: f"Rejected {request.id} ({request.company}).")


def main(argv: list[str] | None = None) -> None:
    """Entry point: errors are one line on stderr and a non-zero exit, never a traceback."""
    try:
        cli.main(args=argv, prog_name="crosspath", standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted.", 130)
    except click.ClickException as exc:
        fail(exc.format_message(), exc.exit_code)
    except (AppError, SettingsError) as exc:
        fail(exc.message if isinstance(exc, AppError) else str(exc), 1)
    except SQLAlchemyError as exc:
        fail(f"database error: {str(exc).splitlines()[0]}", 1)


def fail(message: str, code: int) -> None:
    click.echo(f"crosspath: {message}", err=True)
    sys.exit(code)

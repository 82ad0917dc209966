"""`crosspath audit`: the record of every change operators made, in the console or here."""

from __future__ import annotations

import click

from crosspath.cli.context import Context, emit, json_option, pass_context, table
from crosspath.console import audit


@click.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("list")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--record", "record_id", help="Only the entries about this record id.")
@json_option
@pass_context
def audit_list(ctx: Context, limit: int, record_id: str | None, as_json: bool) -> None:
    """List audit entries, newest first: who did what to which record, when, from where."""
    with ctx.write() as conn:
        rows = audit.entries(conn, limit=limit, record_id=record_id)
    columns = ["created_at", "actor", "action", "record_id", "address", "detail"]
    emit(as_json, rows, lambda: table(rows, columns))

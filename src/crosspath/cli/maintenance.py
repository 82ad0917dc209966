"""`crosspath purge`: forget what the service keeps only for a while."""

from __future__ import annotations

import click

from crosspath.cli.context import Context, emit, json_option, pass_context
from crosspath.store import idempotency


@click.command("purge")
@json_option
@pass_context
def purge(ctx: Context, as_json: bool) -> None:
    """Remove idempotency keys older than 24 hours (run it daily, e.g. from cron)."""
    with ctx.write() as conn:
        keys = idempotency.purge(conn)
    emit(as_json, {"idempotency_keys": keys}, lambda: f"Purged {keys} idempotency keys.")

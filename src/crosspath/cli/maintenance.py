"""`crosspath purge`: forget what the service keeps only for a while."""

from __future__ import annotations

import click

from crosspath.cli.context import Context, emit, json_option, pass_context
from crosspath.events import service as events
from crosspath.store import idempotency


@click.command("purge")
@json_option
@pass_context
def purge(ctx: Context, as_json: bool) -> None:
    """Remove idempotency keys older than 24 hours, and events (with their deliveries) older
    than CROSSPATH_EVENT_RETENTION_DAYS. Run it daily, e.g. from cron; the delivery worker
    also purges old events every hour."""
    with ctx.write() as conn:
        keys = idempotency.purge(conn)
        removed = events.purge(conn, ctx.settings.event_retention_days)
    emit(
        as_json,
        {"idempotency_keys": keys, "events": removed},
        lambda: f"Purged {keys} idempotency keys and {removed} events.",
    )

"""`crosspath webhooks`: a partner's endpoints and how their deliveries are going."""

from __future__ import annotations

from types import SimpleNamespace

import click
import msgspec

from crosspath.cli.context import Context, emit, json_option, pass_context, table
from crosspath.webhooks import overview


@click.group("webhooks")
def webhooks_group() -> None:
    """Partners' webhook endpoints and deliveries."""


@webhooks_group.command("list")
@click.argument("partner_id")
@json_option
@pass_context
def webhooks_list(ctx: Context, partner_id: str, as_json: bool) -> None:
    """A partner's endpoints, with their pending and failed deliveries."""
    with ctx.write() as conn:
        rows = overview.endpoints(conn, partner_id)
    shown = [
        SimpleNamespace(**msgspec.structs.asdict(row), types=",".join(row.event_types or ["all"]))
        for row in rows
    ]
    columns = ["id", "url", "enabled", "types", "pending", "failed"]
    emit(as_json, rows, lambda: table(shown, columns))


@webhooks_group.command("deliveries")
@click.argument("partner_id")
@click.option("--endpoint", "endpoint_id", help="Only this endpoint's deliveries.")
@click.option(
    "--status",
    type=click.Choice(overview.STATUSES),
    default="failed",
    show_default=True,
    help="Which deliveries to show.",
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
@json_option
@pass_context
def webhooks_deliveries(
    ctx: Context, partner_id: str, endpoint_id: str | None, status: str, limit: int, as_json: bool
) -> None:
    """A partner's deliveries, newest event first: by default the failed ones."""
    with ctx.write() as conn:
        rows = overview.deliveries(
            conn, partner_id, endpoint_id=endpoint_id, status=status, limit=limit
        )
    columns = ["endpoint_id", "event_id", "event_type", "status", "attempts", "last_status"]
    columns += ["last_error", "next_attempt_at"]
    emit(as_json, rows, lambda: table(rows, columns))

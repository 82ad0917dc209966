"""`crosspath events`: what a partner's change feed holds."""

from __future__ import annotations

import click

from crosspath.cli.context import Context, emit, json_option, pass_context
from crosspath.events import service


@click.group("events")
def events_group() -> None:
    """Read partners' change feeds."""


@events_group.command("list")
@click.argument("partner_id")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option
@pass_context
def events_list(ctx: Context, partner_id: str, limit: int, as_json: bool) -> None:
    """A partner's newest events, newest first."""
    with ctx.write() as conn:
        found = service.recent(conn, partner_id, limit)

    def human() -> str:
        if not found:
            return "(none)"
        lines = []
        for event in found:
            record = event["data"]["object"]
            changed = ",".join(event["data"]["changed"]) or "-"
            reason = event["data"].get("reason")
            line = f"{event['created_at']}  {event['id']}  {event['type']:<16} {record['id']}"
            line += f"  {event['actor']}  {changed}"
            lines.append(line + (f"  reason: {reason}" if reason else ""))
        return "\n".join(lines)

    emit(as_json, found, human)

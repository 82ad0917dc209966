"""`crosspath missions`: CrossPath's review of partners' missions."""

from __future__ import annotations

import click

from crosspath.cli.context import Context, emit, json_option, pass_context, table
from crosspath.missions import review
from crosspath.missions.schema import STATUSES


@click.group("missions")
def missions_group() -> None:
    """Review partners' missions."""


@missions_group.command("list")
@click.option(
    "--status",
    type=click.Choice([*STATUSES, "all"]),
    default="private",
    show_default=True,
    help="'private' lists the missions awaiting review.",
)
@json_option
@pass_context
def missions_list(ctx: Context, status: str, as_json: bool) -> None:
    """List missions of every partner, oldest first."""
    with ctx.write() as conn:
        rows = review.list_for_review(conn, None if status == "all" else status)
    columns = ["id", "partner_id", "status", "title", "created_at"]
    emit(as_json, rows, lambda: table(rows, columns))


@missions_group.command("set-status")
@click.argument("mission_id")
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--reason", help="Why, for the partner: carried by the change feed's event.")
@json_option
@pass_context
def missions_set_status(
    ctx: Context, mission_id: str, status: str, reason: str | None, as_json: bool
) -> None:
    """Publish (live), close or reopen (private or live) a mission."""
    with ctx.write() as conn:
        mission = review.set_status(conn, mission_id, status, reason=reason)
        ctx.audit(
            conn, "mission.set_status", mission.id, f"{status}: {reason}" if reason else status
        )
    emit(as_json, mission, lambda: f"Mission {mission.id} is now {mission.status}.")

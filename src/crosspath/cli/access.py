"""`crosspath access-requests`: requests for API access sent from the portal."""

from __future__ import annotations

import click

from crosspath.access import service as access_requests
from crosspath.cli.context import Context, emit, json_option, pass_context, table


@click.group("access-requests")
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
        detail = f"partner {approval.partner_id}, key {approval.key_id}"
        ctx.audit(conn, "access_request.approve", request_id, detail)
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
        ctx.audit(conn, "access_request.reject", request_id, request.reason)
    emit(as_json, request, lambda: f"Rejected {request.id} ({request.company}).")

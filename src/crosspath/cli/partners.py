"""`crosspath partners` and `crosspath keys`: partner accounts and their API keys."""

from __future__ import annotations

import click

from crosspath.accounts import service as accounts
from crosspath.cli.context import Context, emit, json_option, pass_context, table


@click.group("partners")
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
        ctx.audit(conn, "partner.create", partner.id, partner.name)
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
        ctx.audit(conn, "partner.disable", partner.id)
    emit(as_json, partner, lambda: f"Disabled partner {partner.id}; its keys no longer work.")


@click.group("keys")
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
        ctx.audit(conn, "key.issue", issued.id, f"partner {partner_id}")
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
        ctx.audit(conn, "key.revoke", info.id, f"partner {info.partner_id}")
    emit(as_json, info, lambda: f"Revoked key {info.id} ({info.prefix}…).")

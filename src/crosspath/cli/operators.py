"""`crosspath operators`: the accounts that sign in to the operators' console."""

from __future__ import annotations

import sys

import click

from crosspath.cli.context import Context, emit, json_option, pass_context, table
from crosspath.console import operators

password_stdin = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input instead of prompting.",
)


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt(
        f"Password (at least {operators.MIN_PASSWORD} characters)",
        hide_input=True,
        confirmation_prompt="Repeat the password",
    )
    return password


@click.group("operators")
def operators_group() -> None:
    """Operator accounts of the console (/console)."""


@operators_group.command("create")
@click.argument("email")
@password_stdin
@json_option
@pass_context
def operators_create(ctx: Context, email: str, password_stdin: bool, as_json: bool) -> None:
    """Create an operator who can sign in to the console."""
    password = read_password(password_stdin)
    with ctx.write() as conn:
        operator = operators.create(conn, email, password)
        ctx.audit(conn, "operator.create", operator.id, operator.email)
    emit(as_json, operator, lambda: f"Created operator {operator.email} ({operator.id}).")


@operators_group.command("list")
@json_option
@pass_context
def operators_list(ctx: Context, as_json: bool) -> None:
    """List operators (never their passwords)."""
    with ctx.write() as conn:
        rows = operators.list_operators(conn)
    columns = ["id", "email", "created_at", "password_changed_at", "disabled_at"]
    emit(as_json, rows, lambda: table(rows, columns))


@operators_group.command("disable")
@click.argument("email")
@json_option
@pass_context
def operators_disable(ctx: Context, email: str, as_json: bool) -> None:
    """Disable an operator: signed out now, and no new sign-in."""
    with ctx.write() as conn:
        operator = operators.disable(conn, email)
        ctx.audit(conn, "operator.disable", operator.id, operator.email)
    emit(as_json, operator, lambda: f"Disabled operator {operator.email}; signed out everywhere.")


@operators_group.command("reset-password")
@click.argument("email")
@password_stdin
@json_option
@pass_context
def operators_reset_password(ctx: Context, email: str, password_stdin: bool, as_json: bool) -> None:
    """Give an operator a new password; their open sessions end."""
    password = read_password(password_stdin)
    with ctx.write() as conn:
        operator = operators.reset_password(conn, email, password)
        ctx.audit(conn, "operator.reset_password", operator.id, operator.email)
    emit(
        as_json, operator, lambda: f"New password set for {operator.email}; signed out everywhere."
    )

"""`crosspath`: the operators' command line. Every command that prints takes --json."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import SQLAlchemyError

from crosspath.cli import (
    access,
    audit,
    db,
    events,
    maintenance,
    missions,
    operators,
    partners,
    references,
    webhooks,
    worker,
)
from crosspath.errors import AppError
from crosspath.settings import SettingsError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Operate the CrossPath Recruitment API: database, partners, keys, references, reviews.

    Configuration comes from CROSSPATH_* environment variables (see the README).
    """


for command in (
    db.db_group,
    db.serve,
    partners.partners_group,
    partners.keys_group,
    references.references_group,
    missions.missions_group,
    access.access_requests_group,
    maintenance.purge,
    events.events_group,
    webhooks.webhooks_group,
    worker.worker,
    operators.operators_group,
    audit.audit_group,
):
    cli.add_command(command)


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

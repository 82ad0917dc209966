"""What every command shares: settings, the engine, the transaction, and how output is printed."""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
import msgspec
from sqlalchemy import Engine, make_url
from sqlalchemy.engine import Connection

from crosspath.console import audit
from crosspath.settings import Settings
from crosspath.store.engine import make_engine
from crosspath.store.migrate import current_revision
from crosspath.store.transaction import transaction

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
NO_SCHEMA = (
    "there is no CrossPath database at {url}: run `crosspath db upgrade` to create it, "
    "or set CROSSPATH_DATABASE_URL to the database to use."
)


class Context:
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._engine: Engine | None = None
        self._checked = False

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.from_env()
        return self._settings

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url, self.settings.db_pool_size)
        return self._engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """The command's one transaction, on a database that has the schema."""
        self.require_schema()
        with transaction(self.engine, write=True) as conn:
            yield conn

    def audit(
        self, conn: Connection, action: str, record_id: str | None, detail: str | None = None
    ) -> None:
        """Record a change made from the command line, in the transaction that makes it."""
        audit.record(conn, cli_actor(), action, record_id, detail)

    def require_schema(self) -> None:
        """Refuse, in one line, to work on a database that was never created; and never
        create an empty SQLite file by looking for one."""
        if self._checked:
            return
        url = make_url(self.settings.database_url)
        shown = url.render_as_string(hide_password=True)
        file = url.database if url.get_backend_name() == "sqlite" else None
        if file not in (None, "", ":memory:") and not os.path.exists(str(file)):
            raise click.ClickException(NO_SCHEMA.format(url=shown))
        with self.engine.connect() as conn:
            if current_revision(conn) is None:
                raise click.ClickException(NO_SCHEMA.format(url=shown))
        self._checked = True


def cli_actor() -> audit.Actor:
    """Who ran the command, as the audit log names them: the OS user and the host."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name, no passwd entry (some containers)
        user = "unknown"
    return audit.Actor(f"cli:{user}", f"cli:{socket.gethostname()}")


pass_context = click.make_pass_decorator(Context, ensure=True)


def emit(as_json: bool, data: Any, human: Callable[[], str]) -> None:
    if as_json:
        click.echo(msgspec.json.encode(data).decode())
    else:
        click.echo(human())


def table(rows: list[Any], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    cells = [
        ["-" if getattr(row, column) is None else str(getattr(row, column)) for column in columns]
        for row in rows
    ]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)

"""Schema migrations (Alembic), run by `crosspath db upgrade` and at every server start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import Connection

from crosspath.store.transaction import transaction

MIGRATION_LOCK = 0x43524F5353  # any constant shared by every instance
MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def current_revision(conn: Connection) -> str | None:
    """The revision the database is at, or None before its first migration."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head is not None
    return head


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Run the pending migrations; returns the revisions before and after."""
    from alembic import command

    with transaction(engine, write=True) as conn:
        if conn.dialect.name == "postgresql":
            # Instances starting together take turns (on SQLite, BEGIN IMMEDIATE does the
            # same): the first migrates, the others find nothing left to do.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        before = current_revision(conn)
        command.upgrade(_alembic_config(conn), revision)
        return before, current_revision(conn)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), revision)

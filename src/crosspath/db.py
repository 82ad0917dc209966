"""Storage: the engine, the tables (SQLAlchemy Core) and the one transaction scope.

Every partner-owned table leads with `partner_id`, in its primary key and in every index,
so a partner's rows sit together and the schema is ready for a sharded PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Engine,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import Connection

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp with microseconds on every engine."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


partners = Table(
    "partners",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("disabled_at", UTCDateTime()),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("partner_id", String(40), nullable=False),
    Column("id", String(40), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("prefix", String(40), nullable=False),
    Column("label", String(200)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
    PrimaryKeyConstraint("partner_id", "id"),
    ForeignKeyConstraint(["partner_id"], ["partners.id"]),
    Index(None, "key_hash", unique=True),
    Index(None, "id", unique=True),
)

companies = Table(
    "companies",
    metadata,
    Column("partner_id", String(40), nullable=False),
    Column("id", String(40), nullable=False),
    Column("external_id", String(100)),
    Column("name", String(200), nullable=False),
    Column("website", Text),
    Column("description", Text),
    Column("sector", String(100)),
    Column("size", String(100)),
    Column("location", String(100)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("partner_id", "id"),
    ForeignKeyConstraint(["partner_id"], ["partners.id"]),
    Index(None, "partner_id", "external_id", unique=True),
    Index(None, "partner_id", "updated_at"),
)

missions = Table(
    "missions",
    metadata,
    Column("partner_id", String(40), nullable=False),
    Column("id", String(40), nullable=False),
    Column("company_id", String(40), nullable=False),
    Column("external_id", String(100)),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("position", String(100), nullable=False),
    Column("location", String(100), nullable=False),
    Column("languages", JSON, nullable=False),
    Column("contract_type", String(20)),
    Column("remote_policy", String(20)),
    Column("experience_years_min", Integer),
    Column("salary_min", BigInteger),
    Column("salary_max", BigInteger),
    Column("salary_currency", String(3)),
    Column("salary_period", String(10)),
    Column("openings", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("partner_id", "id"),
    ForeignKeyConstraint(["partner_id", "company_id"], ["companies.partner_id", "companies.id"]),
    Index(None, "partner_id", "external_id", unique=True),
    Index(None, "partner_id", "company_id", "id"),
    Index(None, "partner_id", "status", "id"),
    Index(None, "partner_id", "updated_at"),
)

reference_values = Table(
    "reference_values",
    metadata,
    Column("kind", String(40), nullable=False),
    Column("code", String(100), nullable=False),
    Column("label", String(200), nullable=False),
    Column("country", String(2)),
    Column("position", Integer, nullable=False),
    Column("retired_at", UTCDateTime()),
    PrimaryKeyConstraint("kind", "code"),
)


def make_engine(database_url: str, pool_size: int = 10) -> Engine:
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    # Pre-ping and a short connect timeout: after an outage the pool heals by itself, and
    # while the database is down a request fails fast (503) instead of hanging.
    return create_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=10,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5} if database_url.startswith("postgresql") else {},
    )


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the sqlite3 module so writes can BEGIN IMMEDIATE:
    # a writer then waits for the lock up front instead of failing on upgrade.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("crosspath_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """The one transaction of a request or CLI command: committed on success, else rolled back."""
    with engine.connect() as conn:
        conn = conn.execution_options(crosspath_write=write)
        with conn.begin():
            yield conn


MIGRATION_LOCK = 0x43524F5353  # any constant shared by every instance


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    config.attributes["connection"] = conn
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the pending migrations."""
    from alembic import command

    with transaction(engine, write=True) as conn:
        if conn.dialect.name == "postgresql":
            # Instances starting together take turns (on SQLite, BEGIN IMMEDIATE does the
            # same): the first migrates, the others find nothing left to do.
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        command.upgrade(_alembic_config(conn), revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), revision)

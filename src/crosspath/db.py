"""Storage: the engine, the tables (SQLAlchemy Core) and the one transaction scope.

Every partner-owned table leads with `partner_id`, in its primary key and in every index,
so a partner's rows sit together and the schema is ready for a sharded PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import anyio
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
from sqlalchemy.exc import DBAPIError

T = TypeVar("T")
SQLITE_BUSY_TIMEOUT = 30  # seconds a SQLite writer waits for another to finish
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

# Requests for API access sent from the portal; operators decide each one once, and the
# decided ones keep their record (status, decided_at, reason, the partner created).
access_requests = Table(
    "access_requests",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("company", String(200), nullable=False),
    Column("contact_name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("platform", String(300), nullable=False),
    Column("monthly_jds", Integer, nullable=False),
    Column("message", Text),
    Column("status", String(10), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("decided_at", UTCDateTime()),
    Column("reason", Text),
    Column("partner_id", String(40)),
    ForeignKeyConstraint(["partner_id"], ["partners.id"]),
    Index(None, "status", "id"),
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
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives a power loss
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("crosspath_write", False)
    run(conn, "BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """The one transaction of a request or CLI command: committed on success, else rolled back."""
    with _one_writer(engine, write), engine.connect() as conn:
        conn = conn.execution_options(crosspath_write=write)
        with conn.begin():
            yield conn


_WRITERS: dict[str, threading.Lock] = {}


@contextmanager
def _one_writer(engine: Engine, write: bool) -> Iterator[None]:
    """On SQLite, the writers of this process take turns on a lock before BEGIN IMMEDIATE.

    SQLite has one writer at a time, and a writer that finds the file locked polls it with
    growing sleeps (the busy timeout): under concurrent writes the threads of one worker spent
    most of their time asleep (bench/). A lock hands over at once; writers of other processes
    still meet at the file lock. Past the busy timeout it gives up and lets SQLite decide.
    """
    if not write or engine.dialect.name != "sqlite":
        yield
        return
    lock = _WRITERS.setdefault(str(engine.url), threading.Lock())
    acquired = lock.acquire(timeout=SQLITE_BUSY_TIMEOUT)
    try:
        yield
    finally:
        if acquired:
            lock.release()


# The hot paths (the key lookup of every request, the missions' list, get, create and patch)
# run fixed SQL on the driver's cursor inside the request's transaction: bench/ measured Core's
# statement building and result processing at several times the cost of the query itself.
# SQL is written with `?` placeholders; values go through the columns' own type processors, so
# what is stored and read back is exactly what Core would store and read.
_FORMAT_STYLE: dict[str, str] = {}


def run(conn: Connection, sql: str, params: Sequence[Any] = ()) -> Sequence[Any]:
    """The rows of one statement, run by the driver in `conn`'s transaction.

    Driver errors are raised as SQLAlchemy's, as Core would raise them.
    """
    dialect = conn.dialect
    if dialect.paramstyle != "qmark":
        sql = _FORMAT_STYLE.get(sql) or _FORMAT_STYLE.setdefault(sql, sql.replace("?", "%s"))
    dbapi_connection = conn.connection
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []
    except dialect.loaded_dbapi.Error as exc:
        lost = dialect.is_disconnect(exc, dbapi_connection, cursor)
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            sql, params, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost
        ) from exc
    finally:
        cursor.close()


_PROCESSORS: dict[tuple[str, str, str, bool], Any] = {}


def _processor(conn: Connection, column: Column[Any], binding: bool) -> Any:
    key = (conn.dialect.name, column.table.name, column.name, binding)
    if key not in _PROCESSORS:
        impl = column.type.dialect_impl(conn.dialect)
        _PROCESSORS[key] = (
            impl.bind_processor(conn.dialect)
            if binding
            else impl.result_processor(conn.dialect, None)
        )
    return _PROCESSORS[key]


def bind(conn: Connection, column: Column[Any], value: Any) -> Any:
    """`value` as Core would send it to the driver for `column`."""
    process = _processor(conn, column, True)
    return process(value) if process is not None and value is not None else value


def utc_text(value: datetime | str) -> str:
    """A UTCDateTime as the driver returns it, as RFC 3339 text: `2026-11-28T12:30:00.123456Z`.

    PostgreSQL gives a datetime; SQLite gives the text Core stored, `2026-11-28 12:30:00.123456`.
    """
    if isinstance(value, str):
        if len(value) == 26:
            return f"{value[:10]}T{value[11:]}Z"
        value = datetime.fromisoformat(value)
    # isoformat is a third cheaper than strftime, on 40 timestamps a page (bench/).
    text = (value.astimezone(UTC) if value.tzinfo is not None else value).isoformat(
        "T", "microseconds"
    )
    return f"{text[:26]}Z"


def from_driver(conn: Connection, column: Column[Any], value: Any) -> Any:
    """A driver's value of `column` as Core would return it."""
    process = _processor(conn, column, False)
    return process(value) if process is not None else value


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """A connection for a read that is one statement, run without a transaction around it.

    One statement is atomic and consistent on its own; on PostgreSQL the BEGIN and COMMIT
    around it would be two more round trips (bench/ measured them at half the time of a key
    lookup). Not for writes, nor for reads of several statements: those use `transaction`.
    """
    with engine.connect() as conn:
        if conn.dialect.name != "sqlite":  # SQLite: db.run's statements already autocommit
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


async def read(engine: Engine, work: Callable[..., T], *args: Any) -> T:
    """`work(conn, *args)`, a read of one statement: inline on SQLite, in a thread elsewhere.

    A SQLite read is a short local computation (in WAL mode a reader never waits for a
    writer), cheaper than the thread hop around it; a networked database's round trips would
    hold up every other request of the worker, so they wait in a thread.
    """

    def scoped() -> T:
        with one_statement(engine) as conn:
            return work(conn, *args)

    if engine.dialect.name == "sqlite":
        return scoped()
    return await anyio.to_thread.run_sync(scoped)


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

"""The engine: SQLite as the embedded default, PostgreSQL to scale out, and what an outage is."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import msgspec
import sqlalchemy.exc
from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Connection, RootTransaction
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.pool import Pool, QueuePool

# JSON columns are read with msgspec, as the responses are written: the stdlib's decoder was a
# tenth of a list page's data access on SQLite (bench/datapath.py).
_JSON_DECODER = msgspec.json.Decoder()
SQLITE_BUSY_TIMEOUT = 30  # seconds a SQLite writer waits for another to finish
CONNECT_TIMEOUT = 5  # seconds to open a PostgreSQL connection
STATEMENT_TIMEOUT_MS = 10_000  # the server stops a statement running longer
PING_AFTER_IDLE = 1.0  # seconds a pooled connection may sit unused before it is checked


def make_engine(
    database_url: str, pool_size: int = 20, statement_timeout_ms: int = STATEMENT_TIMEOUT_MS
) -> Engine:
    """An engine; on PostgreSQL the server stops a statement after `statement_timeout_ms`
    (0: never, for bulk loads)."""
    if database_url.startswith("sqlite"):
        engine = create_engine(
            make_url(database_url).set(drivername="sqlite+crosspath"),
            connect_args={"check_same_thread": False},
            json_deserializer=_JSON_DECODER.decode,
        )
        event.listen(engine, "connect", _sqlite_on_connect)  # a pool event: none per statement
        return engine
    connect_args: dict[str, Any] = {}
    if database_url.startswith("postgresql"):
        connect_args = {
            "connect_timeout": CONNECT_TIMEOUT,
            "options": f"-c statement_timeout={statement_timeout_ms}",
        }
    engine = create_engine(
        database_url,
        json_deserializer=_JSON_DECODER.decode,
        # Every connection opened is kept: an overflow connection is closed when it comes back
        # to a full pool, so under steady load the pool opened and closed PostgreSQL backends
        # all the time, a fork and an authentication each (list: 0.50x bare with 10 + 10
        # overflow, 0.66x with 20 kept, in one bench/ run).
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=10,
        connect_args=connect_args,
    )
    event.listen(engine, "checkin", _note_idle)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Check a connection that sat unused for a while before a request gets it.

    A busy pool's connections are never idle that long, so requests pay no extra round trip
    (a pre-ping on every checkout would cost one per request); after an outage the pool's
    old connections are found dead here and replaced, instead of failing a request each.
    """
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
        return
    try:
        dbapi_connection.execute("SELECT 1")
        dbapi_connection.rollback()
    except Exception as exc:
        raise DisconnectionError(str(exc)) from exc


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the sqlite3 module so writes can BEGIN IMMEDIATE:
    # a writer then waits for the lock up front instead of failing on upgrade.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # The busy timeout first: switching a new file to WAL takes a lock that another process
    # opening it at the same moment must wait for, not fail on.
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives a power loss
    cursor.close()


# How a SQLite transaction that begins now begins: `begin` sets it, deferred by default.
_SQLITE_BEGIN: ContextVar[str | None] = ContextVar("sqlite_begin", default="BEGIN")


class SQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite, its transactions begun with SQLite's own BEGIN (the driver's are off, see
    `_sqlite_on_connect`), as `begin` asks: IMMEDIATE for a writer, none for a read of one
    statement.

    In the dialect, not in a `begin` event: an engine with an event of its own makes SQLAlchemy
    look up its listeners around every statement; a transaction of one statement cost 260 µs
    with the event and 110 µs without, in one process.
    """

    supports_statement_cache = True

    @classmethod
    def get_pool_class(cls, url: URL) -> type[Pool]:
        return SQLitePool if cls._is_url_file_db(url) else super().get_pool_class(url)

    def do_begin(self, dbapi_connection: Any) -> None:
        statement = _SQLITE_BEGIN.get()
        if statement is not None:
            dbapi_connection.execute(statement)


registry.register("sqlite.crosspath", __name__, "SQLiteDialect")


def begin(conn: Connection, *, write: bool = False, none: bool = False) -> RootTransaction:
    """`conn.begin()`; on SQLite with BEGIN IMMEDIATE for a writer (it waits for the lock up
    front instead of failing on upgrade), and with no BEGIN at all when `none`: each
    statement then runs in SQLite's own autocommit and reads the latest commit."""
    token = _SQLITE_BEGIN.set(None if none else "BEGIN IMMEDIATE" if write else "BEGIN")
    try:
        return conn.begin()
    finally:
        _SQLITE_BEGIN.reset(token)


class SQLitePool(QueuePool):
    """The pool of a SQLite file; what keeps connections of its own (the event loop's reads)
    lets go of them in `on_dispose` when the engine is disposed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_dispose: list[Callable[[], None]] = []

    def dispose(self) -> None:
        for release in self.on_dispose:
            release()
        super().dispose()


def is_outage(exc: BaseException) -> bool:
    """The database cannot be reached (down, restarting, or no pooled connection in time)."""
    if isinstance(exc, OperationalError | InterfaceError | sqlalchemy.exc.TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated

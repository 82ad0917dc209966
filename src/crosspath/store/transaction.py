"""The one transaction scope of a request or a CLI command, and where database work runs.

A read of a local SQLite file runs inline on the event loop: it is shorter than a thread hop,
and the loop's reads share one connection (`_loop_connection`). Everything else (writes, and
every round trip to a networked database) leaves the loop for a thread, and the request stops
waiting after `DB_TIMEOUT` seconds with a 503, so that a database that hangs never stops a
worker: `/healthz` and other partners' calls go on.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import Pool

from crosspath.errors import AppError, ServiceUnavailable
from crosspath.store import feed
from crosspath.store.engine import SQLITE_BUSY_TIMEOUT, SQLitePool, begin

T = TypeVar("T")
DB_TIMEOUT = 10.0  # seconds a request waits for the database before it answers 503
DB_THREADS = 40  # threads that run database work off the event loop (as many as anyio's default)


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """Committed on success, else rolled back. Services never commit: this is the one place."""
    with (
        _one_writer(engine, write),
        engine.connect() as conn,
        begin(conn, write=write),
        feed.recording(conn),  # the change feed's events, written last
    ):
        yield conn


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """A connection for a read that is one statement, run without a transaction around it.

    One statement is atomic and consistent on its own; on PostgreSQL the BEGIN and COMMIT
    around it would be two more round trips. Not for writes, nor for reads of several
    statements: those use `transaction`.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # No BEGIN at all: the driver runs the statement in SQLite's own autocommit, and
            # returning the connection ends no transaction.
            with begin(conn, none=True):
                yield conn
        else:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")


async def run_sync(
    engine: Engine,
    work: Callable[..., T],
    *args: Any,
    inline: bool = False,
    writes: bool = False,
    timeout: float = DB_TIMEOUT,
) -> T:
    """`work(*args)` in a thread within `timeout` seconds; inline for a SQLite read, on the
    SQLite writer's thread when it `writes`."""
    sqlite = engine.dialect.name == "sqlite"
    if inline and sqlite:
        return work(*args)
    threads = _SQLITE_WRITER if writes and sqlite else _THREADS
    loop = asyncio.get_running_loop()
    job = loop.run_in_executor(threads, contextvars.copy_context().run, partial(work, *args))
    try:
        return await asyncio.wait_for(job, timeout)
    except TimeoutError:
        # A job still queued is dropped; one already running goes on, its result unread.
        raise ServiceUnavailable() from None


# The threads that run database work off the event loop: the standard library's pool, with a
# plain future per job (bench/: a hop costs a fraction of anyio's under a cancel scope).
_THREADS = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="crosspath-db")
# SQLite has one writer at a time, so a worker's writes to it run on one thread, one after the
# other in the order they came. Spread over the threads above, they queued on the writer lock
# (`_one_writer`), which hands over in no particular order (create p99 6x p50), and every
# handover woke another thread.
_SQLITE_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crosspath-sqlite-writer")


async def read(engine: Engine, work: Callable[..., T], *args: Any) -> T:
    """`work(conn, *args)`, a read of one statement."""
    if engine.dialect.name == "sqlite":
        conn = _loop_connection(engine)
        try:
            return work(conn, *args)
        except AppError:
            raise  # the answer of a read that worked (a 404, a 400): the connection is fine
        except BaseException:
            _release(conn)  # anything else: the next read starts on a fresh connection
            raise

    def once() -> T:
        with one_statement(engine) as conn:
            return work(conn, *args)

    def scoped() -> T:
        try:
            return once()
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
        # The pooled connection had died (the database restarted since it was last used, too
        # recently for the idle check). The pool has dropped its connections of that age; a
        # read is safe to run again, on a new one.
        return once()

    return await run_sync(engine, scoped)


class _LoopReads:
    """A pool's connections for inline reads: one per thread, and all of them, to close."""

    def __init__(self) -> None:
        self.mine = threading.local()
        self.held: weakref.WeakSet[Connection] = weakref.WeakSet()


# Per SQLite pool, per thread: the connection that inline reads share. Taking a pooled
# connection and giving it back was half the cost of a key lookup or a list page (bench/).
# A thread's connection goes back to the pool when the thread ends; a pool's connections
# close, and its entry goes, when its engine is disposed.
_LOOP_READS: dict[Pool, _LoopReads] = {}


def _loop_connection(engine: Engine) -> Connection:
    """This thread's connection for one-statement reads of a SQLite file, outside any
    transaction (no BEGIN: each statement reads the latest commit, as in `one_statement`)."""
    pool = engine.pool
    reads = _LOOP_READS.get(pool)
    if reads is None:
        reads = _LOOP_READS[pool] = _LoopReads()
        if isinstance(pool, SQLitePool):  # a file's (an in-memory database is never disposed)
            pool.on_dispose.append(partial(_release_all, pool))
    conn: Connection | None = getattr(reads.mine, "conn", None)
    if conn is None or conn.closed or conn.invalidated:
        conn = reads.mine.conn = engine.connect()
        begin(conn, none=True)  # and never ended: no statement of it is in a transaction
        reads.held.add(conn)
    return conn


def _release(conn: Connection) -> None:
    conn.invalidate()  # the driver connection is closed, not pooled
    conn.close()


def _release_all(pool: Pool) -> None:
    reads = _LOOP_READS.pop(pool, None)
    for conn in list(reads.held if reads else ()):
        if not conn.closed:
            _release(conn)


async def write(engine: Engine, work: Callable[..., T], *args: Any) -> T:
    """`work(conn, *args)` in a write transaction."""

    def scoped() -> T:
        with transaction(engine, write=True) as conn:
            return work(conn, *args)

    return await run_sync(engine, scoped, writes=True)


async def read_many(engine: Engine, work: Callable[..., T], *args: Any) -> T:
    """`work(conn, *args)` in a read transaction (several statements, one snapshot)."""

    def scoped() -> T:
        with transaction(engine) as conn:
            return work(conn, *args)

    return await run_sync(engine, scoped, inline=True)


_WRITERS: dict[str, threading.Lock] = {}


@contextmanager
def _one_writer(engine: Engine, write: bool) -> Iterator[None]:
    """On SQLite, the writers of this process take turns on a lock before BEGIN IMMEDIATE.

    SQLite has one writer at a time, and a writer that finds the file locked polls it with
    growing sleeps (the busy timeout): under concurrent writes the threads of one worker spent
    most of their time asleep (bench/). A lock hands over at once; writers of other processes
    still meet at the file lock. Past the busy timeout it gives up and lets SQLite decide.
    Requests' writes already take turns on `_SQLITE_WRITER`; the lock is for the writers beside
    them in the process (a webhook worker's thread, the CLI, the tests).
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

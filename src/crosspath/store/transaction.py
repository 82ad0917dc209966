"""The one transaction scope of a request or a CLI command, and where database work runs.

A read of a local SQLite file runs inline on the event loop: it is shorter than a thread hop.
Everything else (writes, and every round trip to a networked database) leaves the loop for a
thread, and the request stops waiting after `DB_TIMEOUT` seconds with a 503, so that a
database that hangs never stops a worker: `/healthz` and other partners' calls go on.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from crosspath.errors import ServiceUnavailable
from crosspath.store.engine import SQLITE_BUSY_TIMEOUT

T = TypeVar("T")
DB_TIMEOUT = 10.0  # seconds a request waits for the database before it answers 503
DB_THREADS = 40  # threads that run database work off the event loop (as many as anyio's default)


@contextmanager
def transaction(engine: Engine, *, write: bool = False) -> Iterator[Connection]:
    """Committed on success, else rolled back. Services never commit: this is the one place."""
    with _one_writer(engine, write), engine.connect() as conn:
        conn = conn.execution_options(crosspath_write=write)
        with conn.begin():
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
            # No BEGIN at all (see engine._sqlite_on_begin): the driver runs the statement in
            # SQLite's own autocommit, and returning the connection issues no ROLLBACK.
            yield conn.execution_options(crosspath_no_begin=True)
        else:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")


async def run_sync(
    engine: Engine,
    work: Callable[..., T],
    *args: Any,
    inline: bool = False,
    timeout: float = DB_TIMEOUT,
) -> T:
    """`work(*args)` in a thread within `timeout` seconds; inline for a SQLite read."""
    if inline and engine.dialect.name == "sqlite":
        return work(*args)
    loop = asyncio.get_running_loop()
    done: asyncio.Future[T] = loop.create_future()
    _WORKERS.submit(loop, done, contextvars.copy_context(), work, args)
    timer = loop.call_later(timeout, _expire, done)
    try:
        return await done
    finally:
        timer.cancel()


def _expire(done: asyncio.Future[Any]) -> None:
    if not done.done():  # the thread goes on; its result is dropped
        done.set_exception(ServiceUnavailable())


def _settle(done: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if done.done():  # timed out, or the request was cancelled
        return
    if error is None:
        done.set_result(result)
    else:
        done.set_exception(error)


class _Workers:
    """The threads that run database work off the event loop: one queue, one future per job.

    Lighter than `anyio.to_thread` under a cancel scope (bench/: about half the cost of a hop
    under load); the wait stays bounded by the timer in `run_sync`. Daemon threads, so that a
    thread stuck on a frozen database never holds up the process's exit.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._jobs: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)  # released by a thread each time it waits for a job
        self._lock = threading.Lock()
        self._threads = 0

    def submit(
        self,
        loop: asyncio.AbstractEventLoop,
        done: asyncio.Future[Any],
        context: contextvars.Context,
        work: Callable[..., Any],
        args: tuple[Any, ...],
    ) -> None:
        self._jobs.put((loop, done, context, work, args))
        if self._idle.acquire(blocking=False):  # an idle thread takes it
            return
        with self._lock:  # else a new thread, up to the limit; past it the job waits its turn
            if self._threads >= self._size:
                return
            self._threads += 1
        threading.Thread(target=self._run, name="crosspath-db", daemon=True).start()

    def _run(self) -> None:
        while True:
            loop, done, context, work, args = self._jobs.get()
            if not done.cancelled():  # a hint only: a job that timed out in the queue is skipped
                result, error = None, None
                try:
                    result = context.run(work, *args)
                except BaseException as exc:  # handed to the request, raised there
                    error = exc
                with suppress(RuntimeError):  # the loop has closed
                    loop.call_soon_threadsafe(_settle, done, result, error)
                del result, error
            self._idle.release()


_WORKERS = _Workers(DB_THREADS)


async def read(engine: Engine, work: Callable[..., T], *args: Any) -> T:
    """`work(conn, *args)`, a read of one statement."""

    def scoped() -> T:
        with one_statement(engine) as conn:
            return work(conn, *args)

    return await run_sync(engine, scoped, inline=True)


async def write(engine: Engine, work: Callable[..., T], *args: Any) -> T:
    """`work(conn, *args)` in a write transaction."""

    def scoped() -> T:
        with transaction(engine, write=True) as conn:
            return work(conn, *args)

    return await run_sync(engine, scoped)


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

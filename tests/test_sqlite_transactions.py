"""How transactions begin on a SQLite file (the embedded default), whatever the engine under
test: a writer holds the write lock from its start, a read transaction reads one snapshot, a
read of one statement holds no transaction, and the event loop's read connections close with
their engine."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from crosspath.store.engine import make_engine
from crosspath.store.transaction import one_statement, read, transaction

COUNT = text("SELECT count(*) FROM notes")


@pytest.fixture
def file(tmp_path: Path) -> Path:
    path = tmp_path / "transactions.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE notes (body TEXT)")
    return path


@pytest.fixture
def sqlite_engine(file: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{file}")
    yield engine
    engine.dispose()


def other_writer(file: Path) -> sqlite3.Connection:
    """A connection of another process's kind: it does not wait for a lock."""
    return sqlite3.connect(file, timeout=0, isolation_level=None)


def test_a_write_transaction_holds_the_write_lock_from_its_start(
    sqlite_engine: Engine, file: Path
) -> None:
    other = other_writer(file)
    with (
        transaction(sqlite_engine, write=True),
        pytest.raises(sqlite3.OperationalError, match="locked"),
    ):
        other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")  # taken once the writer has committed
    other.execute("ROLLBACK")


def test_a_read_transaction_takes_no_write_lock_and_reads_one_snapshot(
    sqlite_engine: Engine, file: Path
) -> None:
    other = other_writer(file)
    with transaction(sqlite_engine) as conn:
        assert conn.execute(COUNT).scalar_one() == 0
        other.execute("INSERT INTO notes VALUES ('written meanwhile')")  # not locked out
        assert conn.execute(COUNT).scalar_one() == 0  # the snapshot it began with
    with transaction(sqlite_engine) as conn:
        assert conn.execute(COUNT).scalar_one() == 1


def test_a_read_of_one_statement_holds_no_transaction(sqlite_engine: Engine, file: Path) -> None:
    other = other_writer(file)
    with one_statement(sqlite_engine) as conn:
        assert conn.execute(COUNT).scalar_one() == 0
        assert not conn.connection.driver_connection.in_transaction  # type: ignore[union-attr]
        other.execute("INSERT INTO notes VALUES ('written meanwhile')")
        assert conn.execute(COUNT).scalar_one() == 1  # each statement reads the latest commit


def test_the_event_loops_reads_see_every_commit_and_close_with_their_engine(
    sqlite_engine: Engine, file: Path
) -> None:
    drivers: list[Any] = []

    def count(conn: Connection) -> int:
        drivers.append(conn.connection.driver_connection)
        assert not conn.connection.driver_connection.in_transaction  # type: ignore[union-attr]
        return int(conn.execute(COUNT).scalar_one())

    async def reads() -> list[int]:
        first = await read(sqlite_engine, count)
        other_writer(file).execute("INSERT INTO notes VALUES ('written meanwhile')")
        return [first, await read(sqlite_engine, count)]

    assert asyncio.run(reads()) == [0, 1]
    assert drivers[0] is drivers[1]  # the loop's reads share one connection
    sqlite_engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        drivers[0].execute("SELECT 1")
    assert asyncio.run(read(sqlite_engine, count)) == 1  # a new connection after the dispose
    assert drivers[-1] is not drivers[0]

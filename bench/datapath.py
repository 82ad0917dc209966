"""Data access on the hot paths, in one thread, no HTTP: the app's code against the driver.

Each path does the same work two ways and checks that they give the same bytes:

- app: the app's own code as a request runs it, SQLAlchemy Core statements built once inside
  `one_statement` (the key lookup `find_caller` as the edge does it; `list_missions` and
  `get_mission` as their routes do);
- driver: the bare reference's SQL on a plain driver connection in autocommit, as one
  statement needs no transaction around it.

app / driver is what Core (statement execution, result processing, the connection checkout)
adds to the driver's time for the same query; the database's own time is in both.

    .venv/bin/python bench/datapath.py sqlite:///bench.db   # an empty database: it seeds it
"""

from __future__ import annotations

import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import bare
import msgspec
import seed

from crosspath.accounts import keys
from crosspath.missions import service as missions
from crosspath.paging import ListQuery, encode_cursor
from crosspath.store.engine import make_engine
from crosspath.store.transaction import one_statement

Path = tuple[str, Callable[[], bytes], Callable[[], bytes]]


def _mission(row: Any) -> bare.Mission:
    """The bare reference's mission, its languages decoded (SQLite keeps JSON text with spaces
    that the bare server passes on as they are) so that the bytes equal the app's."""
    if isinstance(row[7], str):
        row = (*row[:7], msgspec.json.decode(row[7]), *row[8:])
    return bare.mission(row)


def _driver(url: str) -> Callable[[str, tuple[Any, ...]], list[Any]]:
    """A plain driver connection in autocommit: `run(sql, args)` gives the rows."""
    if url.startswith("sqlite"):
        conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        return lambda sql, args: conn.execute(sql, args).fetchall()
    import psycopg

    conn = psycopg.connect(seed.postgres_conninfo(url), autocommit=True)
    return lambda sql, args: conn.execute(sql.replace("?", "%s"), args).fetchall()


def paths(seeded: seed.Seeded) -> list[Path]:
    engine = make_engine(seeded.database_url)
    run = _driver(seeded.database_url)
    secret, key, one = seeded.secret, seeded.key, seeded.mission_ids[0]
    encode = msgspec.json.encode
    with one_statement(engine) as conn:
        caller = keys.find_caller(conn, secret, key)
    assert caller is not None
    partner = caller.partner_id
    get_sql = bare.PAGE.replace("id > ? ORDER BY id LIMIT 21", "id = ?")

    def app_key() -> bytes:
        with one_statement(engine) as conn:
            found = keys.find_caller(conn, secret, key)
        assert found is not None
        return encode(found.partner_id)

    def driver_key() -> bytes:
        return encode(run(bare.FIND_KEY, (keys.hash_key(secret, key),))[0][0])

    def app_list() -> bytes:
        with one_statement(engine) as conn:
            return encode(missions.list_missions(conn, partner, ListQuery()))

    def driver_list() -> bytes:
        rows = run(bare.PAGE, (partner, ""))
        cursor = encode_cursor(rows[19][0]) if len(rows) > 20 else None
        return bare.encode(bare.Page([_mission(row) for row in rows[:20]], cursor))

    def app_get() -> bytes:
        with one_statement(engine) as conn:
            return encode(missions.get_mission(conn, partner, one))

    def driver_get() -> bytes:
        return bare.encode(_mission(run(get_sql, (partner, one))[0]))

    return [
        ("key lookup: hash, 1 row", app_key, driver_key),
        ("list page: 20 rows, JSON", app_list, driver_list),
        ("get one: 1 row, JSON", app_get, driver_get),
    ]


def per_call_us(function: Callable[[], Any], seconds: float = 1.0) -> float:
    """The median over five rounds of the time per call, in microseconds."""
    rounds = []
    for _ in range(5):
        calls, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds / 5:
            function()
            calls += 1
        rounds.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(rounds)


def compare(seeded: seed.Seeded) -> list[tuple[str, float, float]]:
    """Per path: µs per call through the app's code and on the driver."""
    results = []
    for name, app, driver in paths(seeded):
        if app() != driver():
            raise RuntimeError(f"{name}: the app and the driver answer differently")
        for _ in range(50):
            app(), driver()
        # interleaved rounds, so that the machine's other work weighs on both alike
        app_us, driver_us = [], []
        for _ in range(3):
            app_us.append(per_call_us(app, 0.5))
            driver_us.append(per_call_us(driver, 0.5))
        results.append((name, statistics.median(app_us), statistics.median(driver_us)))
    return results


if __name__ == "__main__":
    for name, app_us, driver_us in compare(seed.seed(sys.argv[1], 1_000)):
        print(f"{name}: app {app_us:.0f} µs, driver {driver_us:.0f} µs, {app_us / driver_us:.2f}×")

"""Data access on the hot paths, in one thread, no HTTP: SQLAlchemy Core, the app, the driver.

Each path does the same work three ways and checks they give the same bytes:

- Core: the statements built with SQLAlchemy Core and its result processing, as the app did
  before bench/ measured it (kept here as the reference for that decision);
- app: the app's own service code (fixed SQL on the driver through `db.run`, inside
  `db.transaction`);
- driver: the bare reference's SQL on a plain driver connection.

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
from sqlalchemy import Row, select

from crosspath.accounts import keys as auth
from crosspath.missions import service as missions
from crosspath.paging import ListQuery, encode_cursor
from crosspath.store import tables
from crosspath.store.engine import make_engine
from crosspath.store.transaction import transaction
from crosspath.timestamps import rfc3339 as timestamp

Path = tuple[str, Callable[[], bytes], Callable[[], bytes], Callable[[], bytes]]


def _core_mission(row: Row[Any]) -> missions.Mission:
    salary = None
    if row.salary_min is not None:
        salary = missions.Salary(row.salary_min, row.salary_max, row.salary_currency,
                                 row.salary_period)  # fmt: skip
    return missions.Mission(
        row.id, row.external_id, row.company_id, row.title, row.description, row.position,
        row.location, list(row.languages), row.contract_type, row.remote_policy,
        row.experience_years_min, salary, row.openings, row.status, timestamp(row.created_at),
        timestamp(row.updated_at),
    )  # fmt: skip


def _driver_mission(row: Any) -> missions.Mission:
    salary = None
    if row[11] is not None:
        salary = missions.Salary(row[11], row[12], row[13], row[14])
    languages = row[7]
    return missions.Mission(
        row[0], row[1], row[2], row[3], row[4], row[5], row[6],
        msgspec.json.decode(languages) if isinstance(languages, str) else languages,
        row[8], row[9], row[10], salary, row[15], row[16], bare.timestamp(row[17]),
        bare.timestamp(row[18]),
    )  # fmt: skip


class Driver:
    """A plain driver connection, one transaction per call like the app."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            self.conn: Any = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
        else:
            import psycopg

            self.conn = psycopg.connect(seed.postgres_conninfo(url))

    def run(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        cursor = self.conn.cursor()
        cursor.execute(sql if self.sqlite else sql.replace("?", "%s"), args)
        return cursor.fetchall()

    def begin(self) -> None:
        if self.sqlite:
            self.conn.execute("BEGIN")

    def commit(self) -> None:
        self.conn.execute("COMMIT") if self.sqlite else self.conn.commit()


def paths(seeded: seed.Seeded) -> list[Path]:
    engine = make_engine(seeded.database_url)
    driver = Driver(seeded.database_url)
    secret, key, one = seeded.secret, seeded.key, seeded.mission_ids[0]
    encode = msgspec.json.encode
    keys, partners, table = tables.api_keys, tables.partners, tables.missions

    def core_caller(conn: Any) -> str:
        row = conn.execute(
            select(keys.c.partner_id, keys.c.id, keys.c.key_hash, keys.c.last_used_at)
            .join(partners, partners.c.id == keys.c.partner_id)
            .where(
                keys.c.key_hash == auth.hash_key(secret, key),
                keys.c.revoked_at.is_(None),
                partners.c.disabled_at.is_(None),
            )
        ).first()
        return str(row.partner_id)

    def core_list() -> bytes:
        with transaction(engine) as conn:
            partner_id = core_caller(conn)
            statement = select(table).where(table.c.partner_id == partner_id)
            rows = conn.execute(statement.order_by(table.c.id).limit(21)).all()
        cursor = encode_cursor(rows[19].id) if len(rows) > 20 else None
        return encode(missions.MissionPage([_core_mission(row) for row in rows[:20]], cursor))

    def app_list() -> bytes:
        with transaction(engine) as conn:
            caller = auth.find_caller(conn, secret, key)
            assert caller is not None
            return encode(missions.list_missions(conn, caller.partner_id, ListQuery()))

    def driver_list() -> bytes:
        driver.begin()
        partner_id = driver.run(bare.FIND_KEY, (auth.hash_key(secret, key),))[0][0]
        rows = driver.run(bare.PAGE, (partner_id, ""))
        driver.commit()
        cursor = encode_cursor(rows[19][0]) if len(rows) > 20 else None
        return encode(missions.MissionPage([_driver_mission(row) for row in rows[:20]], cursor))

    def core_get() -> bytes:
        with transaction(engine) as conn:
            partner_id = core_caller(conn)
            statement = select(table).where(table.c.partner_id == partner_id, table.c.id == one)
            return encode(_core_mission(conn.execute(statement).one()))

    def app_get() -> bytes:
        with transaction(engine) as conn:
            caller = auth.find_caller(conn, secret, key)
            assert caller is not None
            return encode(missions.get_mission(conn, caller.partner_id, one))

    def driver_get() -> bytes:
        driver.begin()
        partner_id = driver.run(bare.FIND_KEY, (auth.hash_key(secret, key),))[0][0]
        sql = bare.PAGE.replace("id > ? ORDER BY id LIMIT 21", "id = ?")
        row = driver.run(sql, (partner_id, one))[0]
        driver.commit()
        return encode(_driver_mission(row))

    return [
        ("list page: key lookup, 20 rows, JSON", core_list, app_list, driver_list),
        ("get one: key lookup, 1 row, JSON", core_get, app_get, driver_get),
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


def compare(seeded: seed.Seeded) -> list[tuple[str, float, float, float]]:
    """Per path: µs per call through Core, through the app, on the driver."""
    results = []
    for name, *ways in paths(seeded):
        answers = {way() for way in ways}
        if len(answers) != 1:
            raise RuntimeError(f"{name}: the three ways answer differently")
        for _ in range(50):
            for way in ways:
                way()
        core, app, driver = (per_call_us(way) for way in ways)
        results.append((name, core, app, driver))
    return results


if __name__ == "__main__":
    for name, core_us, app_us, driver_us in compare(seed.seed(sys.argv[1], 1_000)):
        print(f"{name}: Core {core_us:.0f} µs, app {app_us:.0f} µs, driver {driver_us:.0f} µs")

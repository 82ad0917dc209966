"""What the change feed costs: the write overhead of recording events, and a feed page at 10k
events against one at 1M. In one process, no HTTP, the app's own service code.

- write overhead: creates and patches of missions through the services, each in its own write
  transaction, with the feed on and with `store.feed.write_events` replaced by a no-op (the
  same write without its event), alternated in rounds so the machine's noise weighs on both;
  the ratio is feed / no feed, per operation;
- page cost: `GET /events` pages of 100 (`events.service.page`) at random cursors, for a
  partner with 10,000 events and for one with 1,000,000 (rows seeded on the driver); the
  ratio is the 1M p50 over the 10k p50.

    .venv/bin/python bench/feed.py sqlite:///feed-bench.db [--events 1000000] [--writes 300]
    scripts/with-postgres sh -c '.venv/bin/python bench/feed.py "$CROSSPATH_TEST_DATABASE_URL"'

On PostgreSQL the URL names a maintenance database: the benchmark creates its own beside it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from sqlalchemy import Engine, make_url, text

from crosspath.accounts import service as accounts
from crosspath.companies import service as companies
from crosspath.events import service as events
from crosspath.ids import new_id
from crosspath.missions import service as missions
from crosspath.references import service as references
from crosspath.store import feed
from crosspath.store.engine import make_engine
from crosspath.store.migrate import upgrade
from crosspath.store.tables import events as events_table
from crosspath.store.tables import partners
from crosspath.store.transaction import one_statement, transaction
from crosspath.timestamps import utcnow

MISSION = {
    "title": "Senior Backend Engineer",
    "description": "<p>Build the booking platform.</p>" * 40,
    "position": "software_engineering",
    "location": "fr-paris",
}


@contextmanager
def database(url: str) -> Iterator[Engine]:
    if url.startswith("sqlite"):
        path = make_url(url).database
        for suffix in ("", "-wal", "-shm"):
            _remove(f"{path}{suffix}")
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    admin = make_engine(url)
    name = f"crosspath_feed_bench_{random.randrange(1 << 30)}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine = make_engine(make_url(url).set(database=name).render_as_string(False), 4, 0)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"DROP DATABASE {name}"))
        admin.dispose()


def _remove(path: str) -> None:
    import os

    if os.path.exists(path):
        os.remove(path)


def _timed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def write_overhead(engine: Engine, writes: int) -> dict[str, float]:
    with transaction(engine, write=True) as conn:
        partner = accounts.create_partner(conn, "Bench")
        company = companies.create_company(
            conn, partner.id, companies.parse({"name": "Bench Co"}, creating=True)
        )
    created: list[str] = []
    times: dict[tuple[str, bool], list[float]] = {}
    real = feed.write_events

    def create() -> None:
        parsed = missions.parse(MISSION | {"company_id": company.id}, creating=True)
        with transaction(engine, write=True) as conn:
            created.append(missions.create_mission(conn, partner.id, parsed).id)

    def patch() -> None:
        parsed = missions.parse({"title": new_id("t")}, creating=False)
        with transaction(engine, write=True) as conn:
            missions.update_mission(conn, partner.id, random.choice(created), parsed)

    for _ in range(20):  # warm-up
        create()
        patch()
    for round_ in range(writes):
        for with_feed in (round_ % 2 == 0, round_ % 2 == 1):
            feed.write_events = real if with_feed else (lambda _conn, _changes: None)  # type: ignore[assignment]
            try:
                for name, work in (("create", create), ("patch", patch)):
                    times.setdefault((name, with_feed), []).append(_timed(work))
            finally:
                feed.write_events = real
    result = {}
    for name in ("create", "patch"):
        on = statistics.median(times[(name, True)])
        off = statistics.median(times[(name, False)])
        result[f"{name} p50 with the feed (ms)"] = on * 1000
        result[f"{name} p50 without (ms)"] = off * 1000
        result[f"{name} ratio"] = on / off
    return result


def seed_events(engine: Engine, count: int) -> str:
    """A partner with `count` events, written on the driver in chunks (as bench/seed.py does)."""
    with transaction(engine, write=True) as conn:
        partner = accounts.create_partner(conn, f"Feed {count}")
    body = msgspec.json.encode(
        {
            "id": "evt_x",
            "type": "mission.updated",
            "created_at": "2026-12-02T00:00:00Z",
            "actor": "partner",
            "data": {"object": MISSION, "changed": ["title"]},
        }
    ).decode()
    now = utcnow()
    chunk = 20_000
    for start in range(0, count, chunk):
        rows = [
            {
                "partner_id": partner.id,
                "seq": seq,
                "id": new_id("evt"),
                "type": "mission.updated",
                "record_id": "msn_x",
                "created_at": now,
                "body": body,
            }
            for seq in range(start + 1, min(start + chunk, count) + 1)
        ]
        with transaction(engine, write=True) as conn:
            conn.execute(events_table.insert(), rows)
    with transaction(engine, write=True) as conn:
        conn.execute(partners.update().where(partners.c.id == partner.id).values(event_seq=count))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE events"))
    return partner.id


def page_cost(engine: Engine, partner_id: str, count: int, pages: int) -> float:
    """The p50 of a page of 100 at a random cursor, in seconds."""
    times = []
    for i in range(pages + 20):
        after = random.randrange(0, max(count - 100, 1))
        query = events.FeedQuery(after, 100)

        def read(query: events.FeedQuery = query) -> None:
            with one_statement(engine) as conn:
                events.page(conn, partner_id, query, 30)

        elapsed = _timed(read)
        if i >= 20:
            times.append(elapsed)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--pages", type=int, default=500)
    args = parser.parse_args()
    random.seed(1)
    with database(args.database_url) as engine:
        upgrade(engine)
        with transaction(engine, write=True) as conn:
            references.install_defaults(conn)
        print(f"engine: {engine.dialect.name}")
        for name, value in write_overhead(engine, args.writes).items():
            print(f"{name}: {value:.3f}")
        small = seed_events(engine, 10_000)
        large = seed_events(engine, args.events)
        at_small = page_cost(engine, small, 10_000, args.pages)
        at_large = page_cost(engine, large, args.events, args.pages)
        print(f"feed page p50 at 10k events (ms): {at_small * 1000:.3f}")
        print(f"feed page p50 at {args.events:,} events (ms): {at_large * 1000:.3f}")
        print(f"feed page ratio {args.events:,} / 10k: {at_large / at_small:.2f}")


if __name__ == "__main__":
    sys.exit(main())

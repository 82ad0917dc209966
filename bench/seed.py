"""Fast seeding of a benchmark database: partners, keys, companies and N missions.

The schema comes from the project's own migrations; the missions are written with the raw
driver in large batches (SQLite `executemany` in one transaction, PostgreSQL `COPY`), about
a million rows a minute, since going through the API would take hours.

    .venv/bin/python bench/seed.py sqlite:///bench.db 1000000
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import make_url

from crosspath import ids
from crosspath.accounts import service as accounts
from crosspath.references import service as references
from crosspath.store import tables
from crosspath.store.engine import make_engine
from crosspath.store.migrate import upgrade
from crosspath.store.transaction import transaction

SECRET = "bench-secret-" + "b" * 40
PARTNERS = 4  # the benchmark's partner is the first; the others own the rest of the rows
COMPANIES_PER_PARTNER = 10
SAMPLE = 200  # mission ids of the benchmark partner handed to the load scripts
BATCH = 5_000

MISSION_COLUMNS = (
    "partner_id", "id", "company_id", "external_id", "description", "title", "position",
    "location", "languages", "contract_type", "remote_policy", "experience_years_min",
    "salary_min", "salary_max", "salary_currency", "salary_period", "openings", "status",
    "created_at", "updated_at",
)  # fmt: skip

TITLES = (
    "Senior Backend Engineer", "Data Engineer", "Product Manager", "Head of Sales",
    "Customer Success Manager", "DevOps Engineer", "UX Designer", "Financial Controller",
    "Nurse Practitioner", "Supply Chain Analyst", "HR Business Partner", "Security Engineer",
)  # fmt: skip
POSITIONS = ("software_engineering", "data", "product_management", "sales", "design", "finance")
LOCATIONS = ("fr-paris", "fr-lyon", "de-berlin", "gb-london", "es-madrid", "FR", "DE")
SENTENCES = (
    "You will join a team of twelve engineers building the booking platform used by clinics.",
    "We ship small changes every day and keep the main branch releasable at all times.",
    "The role reports to the VP of Engineering and works closely with product and design.",
    "Our customers are hospitals, private practices and laboratories across Europe.",
    "You care about clear code, careful reviews and measurable outcomes for our users.",
    "We offer a yearly learning budget, a hybrid schedule and a modern equipment allowance.",
    "The interview process has three steps: a call, a practical exercise and a team meeting.",
    "You have shipped production services, know SQL well and can explain trade-offs simply.",
    "Experience with PostgreSQL, message queues or payment systems is a strong plus.",
    "You will mentor two junior colleagues and take part in the on-call rotation.",
    "We are profitable, independent and growing by about forty percent a year.",
    "Relocation support is available for candidates moving from abroad.",
)
HEADINGS = ("About us", "The role", "What you will do", "What we are looking for", "Benefits")


def jd(rng: random.Random) -> str:
    """A job description of realistic shape and size: headings, paragraphs, lists, 2-5 KB."""
    size = rng.randint(2_000, 5_000)
    parts: list[str] = []
    length = 0
    while length < size:
        heading = f"<h2>{rng.choice(HEADINGS)}</h2>"
        paragraph = "<p>" + " ".join(rng.choices(SENTENCES, k=3)) + "</p>"
        items = "".join(f"<li>{s}</li>" for s in rng.choices(SENTENCES, k=4))
        block = f"{heading}{paragraph}<ul>{items}</ul>"
        parts.append(block)
        length += len(block)
    return "".join(parts)[:size].rsplit("</ul>", 1)[0] + "</ul>"


@dataclass
class Seeded:
    """What the load scripts need: the benchmark partner's key, companies and some missions."""

    database_url: str
    missions: int
    secret: str
    key: str
    partner_id: str
    company_ids: list[str]
    mission_ids: list[str]
    last_mission_id: str = ""  # the partner's newest mission: the page after it is empty


def seed(database_url: str, missions: int, secret: str = SECRET, seed_value: int = 1) -> Seeded:
    """Build the schema (migrations) and fill it; the database must be empty."""
    engine = make_engine(database_url, statement_timeout_ms=0)  # a bulk load takes long
    try:
        upgrade(engine)
        with transaction(engine, write=True) as conn:
            references.install_defaults(conn)
            owners = [accounts.create_partner(conn, f"Bench partner {n}") for n in range(PARTNERS)]
            issued = accounts.issue_key(conn, secret, owners[0].id, "bench")
        partner_ids = [owner.id for owner in owners]
        companies = {pid: _company_ids(pid) for pid in partner_ids}
        rng = random.Random(seed_value)
        rows = _missions(rng, partner_ids, companies, missions)
        engine.dispose()  # the bulk load below wants the database to itself
        if engine.dialect.name == "sqlite":
            _fill_sqlite(make_url(database_url).database or "", companies, rows)
        else:
            _fill_postgres(database_url, companies, rows)
        sample = _sample(engine, partner_ids[0])
        last = _last(engine, partner_ids[0])
    finally:
        engine.dispose()
    return Seeded(
        database_url, missions, secret, issued.key, partner_ids[0], companies[partner_ids[0]],
        sample, last,
    )  # fmt: skip


def _company_ids(partner_id: str) -> list[str]:
    return [ids.new_id("cmp") for _ in range(COMPANIES_PER_PARTNER)]


def _missions(
    rng: random.Random, partner_ids: list[str], companies: dict[str, list[str]], count: int
) -> Iterator[tuple[Any, ...]]:
    descriptions = [jd(rng) for _ in range(256)]
    details = [_details(rng) for _ in range(1021)]  # a prime: cycles apart from the 256 JDs
    # Creation times spread over the past year, in id order (ids are time-ordered).
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / max(count, 1)
    tail = rng.getrandbits(40)
    for n in range(count):
        partner_id = partner_ids[n % len(partner_ids)]
        created = start + step * n
        yield (
            partner_id,
            _mission_id(created, n << 40 | tail),
            companies[partner_id][n % COMPANIES_PER_PARTNER],
            f"seed-{n}",
            descriptions[n % len(descriptions)],
            *details[n % len(details)],
            created,
            created,
        )


def _details(rng: random.Random) -> tuple[Any, ...]:
    salary = rng.random() < 0.6
    low = rng.randrange(30_000, 90_000, 1_000)
    return (
        rng.choice(TITLES),
        rng.choice(POSITIONS),
        rng.choice(LOCATIONS),
        json.dumps(rng.sample(["fr", "en", "de", "es"], k=rng.randint(1, 2))),
        rng.choice(("permanent", "fixed_term", "freelance", None)),
        rng.choice(("on_site", "hybrid", "remote", None)),
        rng.choice((0, 2, 5, 8, None)),
        low if salary else None,
        low + 20_000 if salary else None,
        "EUR" if salary else None,
        "year" if salary else None,
        rng.randint(1, 3),
        rng.choice(("private", "live", "live", "closed")),
    )


_CROCKFORD = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", b"0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)


def _mission_id(created: datetime, randomness: int) -> str:
    """A ULID whose time part is the creation time (the app's ids are the same shape)."""
    value = int(created.timestamp() * 1000) << 80 | randomness
    # base32 of 20 bytes is 32 characters; the last 26 carry the ULID's 130 bits.
    text = base64.b32encode(value.to_bytes(20, "big")).translate(_CROCKFORD)[6:]
    return "msn_" + text.decode()


def _batches(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _company_rows(companies: dict[str, list[str]]) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC)
    return [
        (pid, cid, f"Company {n}", "software", "51-200", "fr-paris", now, now)
        for pid, cids in companies.items()
        for n, cid in enumerate(cids)
    ]


COMPANY_COLUMNS = ("partner_id", "id", "name", "sector", "size", "location", "created_at",
                   "updated_at")  # fmt: skip


def _sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (UTC, no zone)."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _fill_sqlite(
    path: str, companies: dict[str, list[str]], rows: Iterator[tuple[Any, ...]]
) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # A one-off bulk load: no journal, no syncs, a large page cache for the index builds.
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("BEGIN")
        conn.executemany(
            _insert_sql("companies", COMPANY_COLUMNS),
            [
                (*row[:6], _sqlite_time(row[6]), _sqlite_time(row[7]))
                for row in _company_rows(companies)
            ],
        )
        sql = _insert_sql("missions", MISSION_COLUMNS)
        for batch in _batches(rows):
            conn.executemany(
                sql, [(*row[:18], _sqlite_time(row[18]), _sqlite_time(row[19])) for row in batch]
            )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def postgres_conninfo(database_url: str) -> str:
    """The libpq connection string of a SQLAlchemy PostgreSQL URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def _fill_postgres(
    database_url: str, companies: dict[str, list[str]], rows: Iterator[tuple[Any, ...]]
) -> None:
    import psycopg

    with psycopg.connect(postgres_conninfo(database_url)) as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY companies ({', '.join(COMPANY_COLUMNS)}) FROM STDIN") as copy:
            for row in _company_rows(companies):
                copy.write_row(row)
        with cursor.copy(f"COPY missions ({', '.join(MISSION_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE missions")


def _sample(engine: Any, partner_id: str) -> list[str]:
    """Up to SAMPLE mission ids of the partner, spread over its whole range."""
    from sqlalchemy import func, select

    with transaction(engine) as conn:
        total = conn.scalar(
            select(func.count())
            .select_from(tables.missions)
            .where(tables.missions.c.partner_id == partner_id)
        )
        every = max((total or 0) // SAMPLE, 1)
        ranked = (
            select(
                tables.missions.c.id,
                func.row_number().over(order_by=tables.missions.c.id).label("n"),
            )
            .where(tables.missions.c.partner_id == partner_id)
            .subquery()
        )
        return list(conn.scalars(select(ranked.c.id).where(ranked.c.n % every == 0).limit(SAMPLE)))


def _last(engine: Any, partner_id: str) -> str:
    from sqlalchemy import func, select

    with transaction(engine) as conn:
        missions = tables.missions
        newest = select(func.max(missions.c.id)).where(missions.c.partner_id == partner_id)
        return conn.scalar(newest) or ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "database_url", help="an empty database: sqlite:///FILE or postgresql+psycopg://..."
    )
    parser.add_argument("missions", type=int)
    args = parser.parse_args()
    started = time.perf_counter()
    seeded = seed(args.database_url, args.missions)
    print(json.dumps(asdict(seeded) | {"seconds": round(time.perf_counter() - started, 1)}))


if __name__ == "__main__":
    sys.exit(main())

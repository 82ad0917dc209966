"""The schema comes from the migrations, and the migrations agree with the table definitions."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from crosspath.store import tables
from crosspath.store.engine import make_engine
from crosspath.store.migrate import MIGRATION_LOCK, downgrade, head_revision, upgrade


def differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, tables.metadata))


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[Engine]:
    engine = make_engine(empty_database_url)
    yield engine
    engine.dispose()


def test_migrations_build_the_tables_the_code_defines(engine: Engine) -> None:
    upgrade(engine)
    assert differences(engine) == []


def test_a_downgrade_to_empty_and_upgrade_again_round_trips(engine: Engine) -> None:
    upgrade(engine)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(engine)
    assert differences(engine) == []


def test_the_drift_check_notices_an_index_the_migrations_do_not_create(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_missions_partner_id_status_id")
    assert differences(engine) != []


def test_every_partner_table_and_index_leads_with_the_partner() -> None:
    # Keys are found by their hash or id before the partner is known: the only exceptions.
    global_lookups = {"ix_api_keys_key_hash", "ix_api_keys_id"}
    for name in ("api_keys", "companies", "missions"):
        table = tables.metadata.tables[name]
        assert table.primary_key.columns.keys()[0] == "partner_id"
        for index in table.indexes:
            if index.name not in global_lookups:
                assert index.columns.keys()[0] == "partner_id", index.name


# One instance starting: its engine and first connection ready, then on "go" it migrates.
INSTANCE = """
import json, sys
from crosspath.store.engine import make_engine
from crosspath.store.migrate import upgrade

engine = make_engine(sys.argv[1])
engine.connect().close()
from alembic import command  # noqa: E402,F401  (imported before "go", as at a server start)
print("ready", flush=True)
sys.stdin.readline()
print(json.dumps(upgrade(engine)), flush=True)
"""
INSTANCES = 4


@contextmanager
def migrations_held_back(engine: Engine) -> Iterator[None]:
    """Holds what a migrating instance waits for first, SQLite's write lock or PostgreSQL's
    migration lock, so that every instance is inside its migration when the race starts."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        else:
            cursor.execute(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        yield
    finally:
        raw.rollback()
        raw.close()


def test_instances_migrating_at_the_same_time_take_turns(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    engine.connect().close()  # the database exists (on SQLite: the file, in WAL mode)
    instances = [
        subprocess.Popen(
            [sys.executable, "-c", INSTANCE, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(INSTANCES)
    ]
    try:
        for instance in instances:
            assert instance.stdout is not None
            assert instance.stdout.readline() == "ready\n"
        with migrations_held_back(engine):
            for instance in instances:  # every process, each with its own engine, at once
                assert instance.stdin is not None
                instance.stdin.write("go\n")
                instance.stdin.flush()
            time.sleep(2)  # each one is now waiting for the lock, or racing without it
        results = [instance.communicate(timeout=120) for instance in instances]
    finally:
        for instance in instances:
            instance.kill()
            instance.wait()
    assert [instance.returncode for instance in instances] == [0] * INSTANCES, results
    head = head_revision()
    revisions = sorted((tuple(json.loads(out)) for out, _ in results), key=str)
    # One migrated from nothing; the others waited their turn and found nothing left to do.
    assert revisions == sorted([(None, head)] + [(head, head)] * (INSTANCES - 1), key=str)
    assert differences(engine) == []

"""The schema comes from the migrations, and the migrations agree with the table definitions."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from crosspath.store import tables
from crosspath.store.engine import make_engine
from crosspath.store.migrate import downgrade, upgrade


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


def test_instances_migrating_at_the_same_time_take_turns(engine: Engine) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: upgrade(engine), range(4)))
    assert differences(engine) == []

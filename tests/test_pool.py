"""The PostgreSQL pool: how many connections a worker opens, and that it keeps them."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Connection

from crosspath.settings import Settings
from crosspath.store.engine import make_engine

pytestmark = pytest.mark.postgres_only
BACKEND = "SELECT pg_backend_pid()"


def test_the_pool_opens_at_most_its_size_and_serves_the_same_connections_again(
    settings: Settings,
) -> None:
    # A connection opened past the pool's size and closed on its return would be a new
    # PostgreSQL backend for every burst of requests.
    size = settings.db_pool_size
    engine = make_engine(settings.database_url, size)
    try:
        held = [engine.connect() for _ in range(size)]
        backends = {conn.exec_driver_sql(BACKEND).scalar_one() for conn in held}
        assert len(backends) == size

        def one_more() -> tuple[Connection, int]:
            conn = engine.connect()
            return conn, conn.exec_driver_sql(BACKEND).scalar_one()

        with ThreadPoolExecutor(max_workers=1) as pool:
            waiting = pool.submit(one_more)
            time.sleep(0.5)
            assert not waiting.done()  # no connection past the pool's size
            held.pop().close()
            extra, backend = waiting.result(timeout=5)
        assert backend in backends  # the one given back
        for conn in [*held, extra]:
            conn.close()
        assert engine.pool.checkedin() == size  # type: ignore[attr-defined]
        again = [engine.connect() for _ in range(size)]
        assert {conn.exec_driver_sql(BACKEND).scalar_one() for conn in again} == backends
        for conn in again:
            conn.close()
    finally:
        engine.dispose()

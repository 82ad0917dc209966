"""A database outage: the service answers 503 quickly, then heals by itself when the database
returns, with no restart. PostgreSQL only: an embedded SQLite file has no server to lose."""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from tests.conftest import Partner
from tests.test_server import issue_key, start, stop

pytestmark = pytest.mark.postgres_only


def pg_ctl(*args: str) -> None:
    command = os.environ["CROSSPATH_TEST_PG_CTL"].split()
    subprocess.run([*command, *args], check=True, capture_output=True, timeout=120)


def wait_for(url: str, status: int, seconds: float = 60) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        response = httpx.get(url, timeout=15)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def test_it_answers_503_while_the_database_is_down_and_recovers_without_a_restart(
    empty_database_url: str,
) -> None:
    server = start(empty_database_url, "--workers", "2")
    down = False
    try:
        headers = issue_key(server, "Alice")
        api = f"{server.url}/partners/v1"
        created = httpx.post(f"{api}/companies", json={"name": "Before"}, headers=headers)
        assert created.status_code == 201

        pg_ctl("stop", "-m", "fast")
        down = True
        ready = wait_for(f"{server.url}/readyz", 503)
        assert ready.status_code == 503
        assert list(ready.json()) == ["error"]
        for response in (
            httpx.get(f"{api}/companies", headers=headers, timeout=15),
            httpx.post(f"{api}/companies", json={"name": "During"}, headers=headers, timeout=15),
        ):
            assert response.status_code == 503
            assert list(response.json()) == ["error"]
            assert "temporarily unavailable" in response.json()["error"]
            assert response.headers["Retry-After"] == "5"

        pg_ctl("start")
        down = False
        assert wait_for(f"{server.url}/readyz", 200).status_code == 200
        listed = wait_for_list(f"{api}/companies", headers)
        assert [c["name"] for c in listed] == ["Before"]
        after = httpx.post(f"{api}/companies", json={"name": "After"}, headers=headers)
        assert after.status_code == 201
    finally:
        if down:
            pg_ctl("start")
        stop(server)


def wait_for_list(url: str, headers: dict[str, str]) -> list[dict[str, object]]:
    """Every worker's pool heals on its next use; a few calls reach all of them."""
    for _ in range(10):
        response = httpx.get(url, headers=headers, timeout=15)
        assert response.status_code == 200, response.text
    data: list[dict[str, object]] = response.json()["data"]
    return data


def test_a_read_on_a_connection_the_database_dropped_is_run_again_on_a_new_one(
    client: TestClient[Any], alice: Partner, engine: Engine
) -> None:
    # A restart, or an operator ending sessions, kills pooled connections; one used again
    # within the idle check's second is found dead only by its statement.
    api = "/partners/v1"
    assert client.get(f"{api}/companies", headers=alice.headers).status_code == 200
    other = create_engine(engine.url, poolclass=NullPool)  # not one of the app's connections
    with other.connect() as admin:
        ended = admin.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    other.dispose()
    assert ended
    response = client.get(f"{api}/companies", headers=alice.headers)
    assert response.status_code == 200, response.text

"""A database that hangs (frozen with SIGSTOP: its sockets stay open, nothing answers) never
blocks the front door: partner calls answer 503 in bounded time, `/healthz` answers at once
meanwhile, and the service works again as soon as the database does, with no restart.
PostgreSQL only: an embedded SQLite file has no server to freeze."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from tests.test_server import issue_key, start, stop

pytestmark = pytest.mark.postgres_only
CALLS = 25


def cluster_pids() -> set[int]:
    """The postmaster of the test cluster (its pid file) and every process it has forked."""
    match = re.search(r"-D\s+(\S+)", os.environ["CROSSPATH_TEST_PG_CTL"])
    assert match, "CROSSPATH_TEST_PG_CTL names no data directory"
    postmaster = int((Path(match.group(1)) / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(
        ["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
    ).stdout.split()
    return {postmaster, *map(int, children)}


@contextmanager
def frozen_database() -> Iterator[None]:
    """Every process of the cluster stopped (not terminated) until the block ends."""
    stopped: set[int] = set()
    try:
        # The postmaster first, so that it forks no new backend; then its children, again
        # until no new one appears.
        while (pids := cluster_pids() - stopped) != set():
            for pid in sorted(pids):
                os.kill(pid, signal.SIGSTOP)
                stopped.add(pid)
        yield
    finally:
        for pid in stopped:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def test_a_frozen_database_gets_503_in_bounded_time_while_healthz_answers_at_once(
    empty_database_url: str,
) -> None:
    server = start(empty_database_url)  # one worker: the waiting call and /healthz share it
    try:
        headers = issue_key(server, "Alice")
        missions = f"{server.url}/partners/v1/missions"
        with httpx.Client(headers=headers, timeout=30) as http:
            for _ in range(3):  # the pool holds live connections when the database freezes
                assert http.get(missions).status_code == 200

        def partner_call(_: int) -> tuple[httpx.Response, float]:
            started = time.monotonic()
            response = httpx.get(missions, headers=headers, timeout=30)
            return response, time.monotonic() - started

        with ThreadPoolExecutor(max_workers=CALLS) as pool, frozen_database():
            # More calls at once than the pool has connections (20).
            calls = [pool.submit(partner_call, i) for i in range(CALLS)]
            time.sleep(1)  # the partner calls are now waiting for the database
            assert not any(call.done() for call in calls)
            for _ in range(3):
                started = time.monotonic()
                health = httpx.get(f"{server.url}/healthz", timeout=5)
                assert health.status_code == 200
                print(f"healthz while frozen: {time.monotonic() - started:.3f} s")
                assert time.monotonic() - started < 1
            answers = [call.result(timeout=30) for call in calls]
            # One more, now that abandoned waits hold every pooled connection.
            answers.append(partner_call(CALLS))
            print(f"503 after {min(s for _, s in answers):.2f}-{max(s for _, s in answers):.2f} s")
            for response, seconds in answers:
                assert response.status_code == 503
                assert list(response.json()) == ["error"]
                assert isinstance(response.json()["error"], str)
                assert response.headers["Retry-After"] == "5"
                assert seconds < 15

        thawed = time.monotonic()
        deadline = thawed + 20
        with httpx.Client(headers=headers, timeout=30) as http:
            while (status := http.get(missions).status_code) != 200:
                assert time.monotonic() < deadline, f"still {status} after the database thawed"
                time.sleep(0.5)
            print(f"200 again {time.monotonic() - thawed:.2f} s after the thaw")
            assert [http.get(missions).status_code for _ in range(5)] == [200] * 5
    finally:
        stop(server)

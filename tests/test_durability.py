"""An acknowledged write is kept: a server process killed mid-stream loses none, and every
SQLite connection the service opens runs in WAL mode with synchronous=FULL, so a commit is on
disk (fsync) before it is acknowledged and survives an operating-system crash or a power loss.

The SIGKILL test proves what a dying process cannot lose; it cannot prove what reaches the disk
(the operating system keeps its page cache when a process dies), which the pragmas test does."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import TestClient
from sqlalchemy import event

from crosspath.api.app import create_app
from crosspath.settings import Settings
from crosspath.store.engine import make_engine
from crosspath.store.migrate import upgrade
from tests.conftest import SECRET, make_partner
from tests.test_server import Server, issue_key, mission, start, stop


@dataclass
class Stream:
    """What the server acknowledged, and the one write in flight when it died."""

    companies: dict[str, Any] = field(default_factory=dict)
    missions: dict[str, Any] = field(default_factory=dict)
    in_flight: tuple[str, str] | None = None  # (mission id, title) of an unanswered patch
    running: threading.Event = field(default_factory=threading.Event)


def stream_writes(server: Server, headers: dict[str, str], stream: Stream) -> None:
    with httpx.Client(base_url=f"{server.url}/partners/v1", headers=headers, timeout=10) as http:
        try:
            company = http.post("/companies", json={"name": "Durable Co"}).json()
            stream.companies[company["id"]] = company
            for i in range(100_000):
                if i % 3 == 0:
                    created = http.post("/missions", json=mission(company["id"], f"d-{i}"))
                    assert created.status_code == 201, created.text
                    stream.missions[created.json()["id"]] = created.json()
                else:
                    target = list(stream.missions)[i % len(stream.missions)]
                    stream.in_flight = (target, f"Title {i}")
                    patched = http.patch(f"/missions/{target}", json={"title": f"Title {i}"})
                    assert patched.status_code == 200, patched.text
                    stream.missions[target] = patched.json()
                    stream.in_flight = None
                if i == 20:
                    stream.running.set()
        except httpx.TransportError:
            pass  # killed: everything acknowledged so far must survive


def test_a_killed_server_keeps_every_acknowledged_write(empty_database_url: str) -> None:
    server = start(empty_database_url)
    headers, other = issue_key(server, "Alice"), issue_key(server, "Bob")
    stream = Stream()
    writer = threading.Thread(target=stream_writes, args=(server, headers, stream), daemon=True)
    writer.start()
    assert stream.running.wait(timeout=60)
    time.sleep(0.3)  # let the stream run on, then pull the plug in the middle of it
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.communicate(timeout=30)
    writer.join(timeout=60)
    assert len(stream.missions) > 5

    server = start(empty_database_url)
    try:
        with httpx.Client(base_url=f"{server.url}/partners/v1", headers=headers) as http:
            for company_id, company in stream.companies.items():
                assert http.get(f"/companies/{company_id}").json() == company
            for mission_id, acknowledged in stream.missions.items():
                stored = http.get(f"/missions/{mission_id}").json()
                if stream.in_flight and stream.in_flight[0] == mission_id:
                    # The unanswered patch may or may not have committed; nothing else moved.
                    assert stored["title"] in (acknowledged["title"], stream.in_flight[1])
                    stored["title"], stored["updated_at"] = (
                        acknowledged["title"],
                        acknowledged["updated_at"],
                    )
                assert stored == acknowledged
        bobs = httpx.get(f"{server.url}/partners/v1/missions", headers=other).json()
        assert bobs["data"] == []
    finally:
        stop(server)


SYNCHRONOUS_FULL = 2  # what `PRAGMA synchronous` reads for FULL


def test_every_sqlite_connection_the_service_opens_is_wal_with_synchronous_full(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'durable.db'}"
    engine = make_engine(url)
    seen: dict[int, tuple[str, int]] = {}

    def record(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        cursor = dbapi_connection.cursor()
        journal = cursor.execute("PRAGMA journal_mode").fetchone()[0]
        synchronous = cursor.execute("PRAGMA synchronous").fetchone()[0]
        cursor.close()
        seen[id(dbapi_connection)] = (journal, synchronous)

    event.listen(engine, "checkout", record)
    try:
        upgrade(engine)
        alice = make_partner(engine)
        settings = Settings(database_url=url, secret_key=SECRET, rate_limit=100_000)
        with TestClient(app=create_app(settings, engine)) as client:
            for i in range(3):
                created = client.post(
                    "/partners/v1/companies", json={"name": f"C{i}"}, headers=alice.headers
                )
                assert created.status_code == 201, created.text
                assert client.get("/partners/v1/companies", headers=alice.headers).is_success
        # Several connections open at once: each is a new one, set up on its own.
        connections = [engine.connect() for _ in range(4)]
        for conn in connections:
            conn.close()
        assert len(seen) >= 4
        assert set(seen.values()) == {("wal", SYNCHRONOUS_FULL)}
    finally:
        engine.dispose()

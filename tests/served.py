"""A real `crosspath serve` for the client's tests: one per test module, on a database of the
engine under test, its access log kept in a file so that a test can count the calls a partner
made. Each test makes its own partner, so tests never see each other's records or calls."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from crosspath.store.engine import make_engine
from tests.conftest import SECRET, Databases, Partner, make_partner
from tests.test_server import CROSSPATH, free_port

SYNC = str(Path(CROSSPATH).with_name("crosspath-sync"))
WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Served:
    url: str
    log: Path
    engine: Engine
    env: dict[str, str] = field(default_factory=dict)
    _marker: Partner | None = None

    def partner(self, name: str = "Sync Partner") -> Partner:
        return make_partner(self.engine, name)

    def calls(self, partner: Partner) -> list[dict[str, Any]]:
        """The partner's requests so far, from the access log, oldest first."""
        entries = []
        for line in self._settled():
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("partner_id") == partner.id and "method" in entry:
                entries.append(entry)
        return entries

    def _settled(self) -> list[str]:
        """The log once every request answered so far is in it: a request is logged as its
        answer goes out, so a call of another partner made now is logged after them."""
        if self._marker is None:
            self._marker = self.partner("Log Marker")
        marker = uuid.uuid4().hex
        headers = self._marker.headers | {"X-Request-Id": marker}
        httpx.get(f"{self.url}/partners/v1/references/sectors", headers=headers)
        for _ in range(200):
            lines = self.log.read_text().splitlines()
            if any(marker in line for line in lines[-50:]):
                return lines
            time.sleep(0.01)
        raise AssertionError("the access log did not show the marker request")

    def writes(self, partner: Partner) -> list[dict[str, Any]]:
        return [call for call in self.calls(partner) if call["method"] in WRITES]


def serve(databases: Databases, template: str, folder: Path, **settings: str) -> Iterator[Served]:
    url = databases.create(template=template)
    port = free_port()
    env = os.environ | {
        "CROSSPATH_DATABASE_URL": url,
        "CROSSPATH_SECRET_KEY": SECRET,
        "CROSSPATH_RATE_LIMIT": "100000",
        "CROSSPATH_WEBHOOK_ALLOW_PRIVATE_URLS": "true",  # endpoints on 127.0.0.1
    } | settings  # fmt: skip
    log = folder / "access.log"
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [CROSSPATH, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            start_new_session=True,
        )
    engine = make_engine(url)
    served = Served(f"http://127.0.0.1:{port}", log, engine, env)
    try:
        _wait_until_up(served.url, process)
        yield served
    finally:
        process.terminate()
        process.wait(timeout=15)
        engine.dispose()
        databases.drop(url)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(1200):  # a minute of refused connections, asked every 0.05 s
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    raise AssertionError("the server did not start")


@pytest.fixture(scope="module", name="served")
def served_fixture(
    databases: Databases, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The server of a test module (import this fixture into the module)."""
    yield from serve(databases, template_db, tmp_path_factory.mktemp("served"))

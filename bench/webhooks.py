"""Webhook latency: from an event's commit to its arrival at the partner's receiver.

Missions are created through the app (its real HTTP handlers, in this process) at a steady
rate while a delivery worker runs as operators run it (`crosspath worker`, its own process);
a receiver on 127.0.0.1 notes when each delivery arrives. The latency of one event is its
arrival time minus its `created_at` (stamped in the write's transaction, just before COMMIT):
it includes the commit, the worker's poll interval, the claim, the signed POST and nothing
of the receiver's own work. A first event, delivered before the measured ones, shows the
worker is up. Prints p50, p99 and the maximum.

    .venv/bin/python bench/webhooks.py sqlite:///webhooks-bench.db [--events 500] [--rate 50]
    scripts/with-postgres sh -c '.venv/bin/python bench/webhooks.py "$CROSSPATH_TEST_DATABASE_URL"'
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import msgspec
from feed import MISSION, database  # bench/feed.py, beside this file
from litestar.testing import TestClient

from crosspath.accounts import service as accounts
from crosspath.api.app import create_app
from crosspath.references import service as references
from crosspath.settings import Settings
from crosspath.store.migrate import upgrade
from crosspath.store.transaction import transaction

SECRET = "bench-secret-" + "z" * 40
COMPANY = {"name": "Clinica", "sector": "healthcare", "size": "51-200", "location": "fr-paris"}


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Receiver

    def do_POST(self) -> None:
        arrived = time.time()
        body = self.rfile.read(int(self.headers["Content-Length"]))
        created = datetime.fromisoformat(msgspec.json.decode(body)["created_at"]).timestamp()
        with self.server.lock:
            self.server.latencies.append(arrived - created)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def run(url: str, events: int, rate: float) -> dict[str, float]:
    settings = Settings(
        database_url=url,
        secret_key=SECRET,
        rate_limit=1_000_000,
        webhook_allow_private_urls=True,
        log_level="WARNING",
    )
    with database(url) as engine:
        upgrade(engine)
        with transaction(engine, write=True) as conn:
            references.install_defaults(conn)
            partner = accounts.create_partner(conn, "Bench")
            key = accounts.issue_key(conn, SECRET, partner.id, "bench").key
        url = engine.url.render_as_string(hide_password=False)
        receiver = Receiver()
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        worker = subprocess.Popen(
            [str(Path(sys.executable).with_name("crosspath")), "worker"],
            env=os.environ
            | {
                "CROSSPATH_DATABASE_URL": url,
                "CROSSPATH_SECRET_KEY": SECRET,
                "CROSSPATH_WEBHOOK_ALLOW_PRIVATE_URLS": "true",
                "CROSSPATH_LOG_LEVEL": "WARNING",
            },
        )
        try:
            with TestClient(app=create_app(settings, engine)) as client:
                headers = {"Authorization": f"Apikey {key}"}
                hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
                client.post(
                    "/partners/v1/webhook-endpoints",
                    json={"url": hook, "event_types": ["mission.created"]},
                    headers=headers,
                ).raise_for_status()
                company = client.post("/partners/v1/companies", json=COMPANY, headers=headers)
                body = MISSION | {"company_id": company.json()["id"]}
                client.post("/partners/v1/missions", json=body, headers=headers)
                while not receiver.latencies:  # the worker has started and delivers
                    time.sleep(0.05)
                receiver.latencies.clear()
                start = time.monotonic()
                for n in range(events):
                    time.sleep(max(0.0, start + n / rate - time.monotonic()))
                    client.post("/partners/v1/missions", json=body, headers=headers)
            deadline = time.monotonic() + 30
            while len(receiver.latencies) < events and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            worker.terminate()
            worker.wait(30)
            receiver.shutdown()
    latencies = sorted(receiver.latencies)
    if len(latencies) < events:
        raise SystemExit(f"only {len(latencies)} of {events} deliveries arrived")
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "max_ms": latencies[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="events written per second")
    args = parser.parse_args()
    figures = run(args.database_url, args.events, args.rate)
    engine = "sqlite" if args.database_url.startswith("sqlite") else "postgresql"
    print(f"engine: {engine}; {args.events} events at {args.rate:g}/s")
    for name, value in figures.items():
        print(f"{name}: {value:.1f}")


if __name__ == "__main__":
    sys.exit(main())

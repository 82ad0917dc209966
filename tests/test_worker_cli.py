"""The worker as operators run it: beside `crosspath serve` by default, or `crosspath worker`
alone; `crosspath webhooks` to see how a partner's deliveries go; no private URLs in production."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from crosspath.settings import Settings
from tests.conftest import SECRET, Partner, company_body, create_company, make_partner
from tests.receiver import receiving
from tests.test_cli import CROSSPATH, Cli
from tests.test_server import start, stop
from tests.webhook_setup import add_endpoint, deliveries, for_tests, running

DEVELOPMENT = {"CROSSPATH_WEBHOOK_ALLOW_PRIVATE_URLS": "true", "CROSSPATH_WEBHOOK_TIMEOUT": "2"}
REFUSED = "CROSSPATH_WEBHOOK_ALLOW_PRIVATE_URLS=true is for development and tests only"


def environment(database_url: str, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CROSSPATH_")}
    return env | {"CROSSPATH_DATABASE_URL": database_url, "CROSSPATH_SECRET_KEY": SECRET} | extra


@pytest.mark.parametrize("command", [["serve", "--port", "1"], ["worker"]])
def test_serve_and_worker_refuse_private_urls_in_production(
    database_url: str, command: list[str]
) -> None:
    env = environment(
        database_url, CROSSPATH_ENV="production", CROSSPATH_WEBHOOK_ALLOW_PRIVATE_URLS="true"
    )
    result = subprocess.run(
        [CROSSPATH, *command], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert REFUSED in result.stderr


def test_serve_alone_delivers_webhooks(database_url: str, engine: Engine) -> None:
    partner = make_partner(engine)
    with receiving() as receiver:
        add_endpoint(engine, partner.id, receiver.url)
        server = start(database_url, env=DEVELOPMENT | {"CROSSPATH_SECRET_KEY": SECRET})
        try:
            sent = time.monotonic()
            response = httpx.post(
                f"{server.url}/partners/v1/companies", json=company_body(), headers=partner.headers
            )
            assert response.status_code == 201, response.text
            [request] = receiver.wait_for(1, timeout=5)
        finally:
            stop(server)
    assert request.at - sent < 5
    assert json.loads(request.body)["data"]["object"]["id"] == response.json()["id"]
    assert server.process.returncode == 0


def test_the_worker_command_delivers_and_stops_on_sigterm(
    client: TestClient[Any], database_url: str, engine: Engine, alice: Partner
) -> None:
    with receiving() as receiver:
        endpoint = add_endpoint(engine, alice.id, receiver.url)
        worker = subprocess.Popen(
            [CROSSPATH, "worker"],
            env=environment(database_url, **DEVELOPMENT),
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            create_company(client, "/partners/v1", alice)
            receiver.wait_for(1, timeout=10)
            worker.send_signal(signal.SIGTERM)
            _, err = worker.communicate(timeout=10)
        finally:
            worker.kill()
    assert worker.returncode == 0, err
    assert len(receiver.received) == 1
    assert deliveries(engine, endpoint)[0].status == "succeeded"
    assert '"logger":"crosspath.webhooks"' in err


def test_webhooks_list_and_deliveries_show_a_partners_endpoints_and_failures(
    client: TestClient[Any], database_url: str, engine: Engine, settings: Settings,
    alice: Partner, bob: Partner,
) -> None:  # fmt: skip
    with receiving() as up, receiving(status=500) as down:
        good = add_endpoint(engine, alice.id, up.url)
        bad = add_endpoint(engine, alice.id, down.url, event_types=["company.created"])
        add_endpoint(engine, bob.id, down.url)
        company = create_company(client, "/partners/v1", alice)
        with running(engine, for_tests(settings, webhook_retry_schedule=())):
            up.wait_for(1)
            down.wait_for(1)
            deadline = time.monotonic() + 5
            while deliveries(engine, bad)[0].status != "failed" and time.monotonic() < deadline:
                time.sleep(0.05)
    cli = Cli(database_url)
    listed = {row["id"]: row for row in cli.json("webhooks", "list", alice.id)}
    assert listed[good.id] == {
        "id": good.id, "url": up.url, "enabled": True, "event_types": None,
        "pending": 0, "failed": 0, "description": None,
    }  # fmt: skip
    assert listed[bad.id]["event_types"] == ["company.created"]
    assert (listed[bad.id]["pending"], listed[bad.id]["failed"]) == (0, 1)
    [failed] = cli.json("webhooks", "deliveries", alice.id)
    assert failed["endpoint_id"] == bad.id
    assert failed["event_type"] == "company.created"
    assert (failed["status"], failed["attempts"], failed["last_status"]) == ("failed", 1, 500)
    assert failed["last_error"] == "answered 500: ok"
    everything = cli.json("webhooks", "deliveries", alice.id, "--status", "all")
    assert {row["endpoint_id"] for row in everything} == {good.id, bad.id}
    only = cli.json("webhooks", "deliveries", alice.id, "--endpoint", good.id, "--status", "all")
    assert [(row["status"], row["event_id"]) for row in only] == [
        ("succeeded", json.loads(up.received[0].body)["id"])
    ]
    assert company["id"] in up.received[0].body.decode()
    human = cli.run("webhooks", "list", alice.id)
    assert "company.created" in human.stdout
    assert "all" in human.stdout
    unknown = cli.run("webhooks", "list", "ptn_nobody")
    assert unknown.returncode == 1
    assert "There is no partner ptn_nobody." in unknown.stderr

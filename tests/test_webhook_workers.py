"""Several workers share the queue, each delivery sent by one of them; and a worker killed in
the middle of a delivery loses nothing: once its lease runs out, another sends it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import Counter
from contextlib import ExitStack
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import Engine

from crosspath.settings import Settings
from crosspath.store.engine import make_engine
from crosspath.webhooks.worker import Worker
from tests.conftest import Partner, company_body
from tests.receiver import receiving
from tests.webhook_setup import add_endpoint, deliveries, for_tests, running


def write_companies(client: TestClient[Any], partner: Partner, count: int, tag: str) -> None:
    for start in range(0, count, 100):
        items = [company_body(external_id=f"{tag}-{n}") for n in range(start, start + 100)]
        response = client.post(
            "/partners/v1/companies/batch", json={"items": items}, headers=partner.headers
        )
        assert response.json()["summary"]["created"] == 100, response.text


def test_two_workers_send_each_delivery_exactly_once(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner, bob: Partner
) -> None:
    with receiving() as receiver, ExitStack() as workers:
        endpoints = [add_endpoint(engine, alice.id, f"{receiver.url}/a{n}") for n in range(3)]
        endpoints.append(add_endpoint(engine, bob.id, f"{receiver.url}/b"))
        for _ in range(2):
            own = make_engine(settings.database_url)
            workers.callback(own.dispose)
            workers.enter_context(running(own, for_tests(settings), concurrency=3))
        write_companies(client, alice, 200, "a")
        write_companies(client, bob, 100, "b")
        expected = 3 * 200 + 100
        got = receiver.wait_for(expected, timeout=120)
        time.sleep(0.5)  # anything sent twice would arrive now
    assert len(got) == expected
    sent = Counter((request.path, request.headers["webhook-id"]) for request in receiver.received)
    assert len(sent) == expected
    assert set(sent.values()) == {1}
    for endpoint in endpoints:
        rows = deliveries(engine, endpoint)
        assert {(row.status, row.attempts) for row in rows} == {("succeeded", 1)}


def deliver_in_a_process(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    Worker(engine, settings, poll_interval=0.05, lease_margin=1).run()


def test_a_worker_killed_mid_delivery_loses_nothing(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    quick = for_tests(settings, webhook_timeout=2)
    held = threading.Event()
    with receiving(hold=held) as receiver:
        endpoint = add_endpoint(engine, alice.id, receiver.url)
        response = client.post("/partners/v1/companies", json=company_body(), headers=alice.headers)
        assert response.status_code == 201
        process = multiprocessing.get_context("spawn").Process(
            target=deliver_in_a_process, args=(quick,)
        )
        process.start()
        try:
            [first] = receiver.wait_for(1, timeout=30)  # the worker is sending, and waits
            assert process.pid is not None
            os.kill(process.pid, signal.SIGKILL)
            process.join(5)
        finally:
            process.kill()
        receiver.hold = None
        held.set()
        assert deliveries(engine, endpoint)[0].status == "pending"
        with running(engine, quick, lease_margin=1):
            [_, second] = receiver.wait_for(2, timeout=10)
    assert second.headers["webhook-id"] == first.headers["webhook-id"]
    assert second.body == first.body
    assert second.at - first.at > 2.5  # not before the dead worker's lease ran out (3 s)
    [row] = deliveries(engine, endpoint)
    assert (row.status, row.attempts, row.last_status) == ("succeeded", 1, 200)

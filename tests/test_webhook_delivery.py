"""Delivery: every event reaches each endpoint that wants it, signed, within seconds, in order,
retried on the schedule, and a slow or dead endpoint holds up no one else."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, select
from standardwebhooks import Webhook

from crosspath.settings import Settings
from crosspath.store.tables import events
from crosspath.store.transaction import transaction
from tests.conftest import Partner, create_company
from tests.receiver import receiving
from tests.webhook_setup import (
    add_endpoint,
    allowing_private_urls,
    deliveries,
    for_tests,
    running,
    set_enabled,
)

BASE = "/partners/v1"


def stored_bodies(engine: Engine, partner: Partner) -> list[str]:
    with transaction(engine) as conn:
        query = select(events.c.body).where(events.c.partner_id == partner.id)
        return list(conn.scalars(query.order_by(events.c.seq)))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return allowing_private_urls(database_url)


def register(client: TestClient[Any], partner: Partner, url: str) -> dict[str, Any]:
    response = client.post(f"{BASE}/webhook-endpoints", json={"url": url}, headers=partner.headers)
    assert response.status_code == 201, response.text
    registered: dict[str, Any] = response.json()
    return registered


def test_an_event_written_through_the_api_arrives_signed_within_five_seconds(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    with receiving() as receiver, running(engine, for_tests(settings)):
        endpoint = register(client, alice, receiver.url)
        committed = time.monotonic()
        company = create_company(client, BASE, alice)
        [request] = receiver.wait_for(1, timeout=5)
    assert request.at - committed < 5
    event = Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert event["type"] == "company.created"
    assert event["data"]["object"]["id"] == company["id"]
    assert request.body.decode() == stored_bodies(engine, alice)[0]
    assert request.headers["webhook-id"] == event["id"]
    assert request.headers["content-type"] == "application/json"
    assert "CrossPath" in request.headers["user-agent"]
    log = client.get(f"{BASE}/webhook-endpoints/{endpoint['id']}/deliveries", headers=alice.headers)
    [row] = log.json()["data"]
    assert (row["event_id"], row["status"], row["attempts"]) == (event["id"], "succeeded", 1)
    assert row["last_status"] == 200


def rename(client: TestClient[Any], partner: Partner, company_id: str, name: str) -> None:
    response = client.patch(
        f"{BASE}/companies/{company_id}", json={"name": name}, headers=partner.headers
    )
    assert response.status_code == 200, response.text


def wait_until(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_failing_endpoint_is_tried_on_the_schedule_then_marked_failed(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    with receiving(status=500, answer=b"database down") as receiver:
        endpoint = add_endpoint(engine, alice.id, receiver.url)
        create_company(client, BASE, alice)
        with running(engine, for_tests(settings, webhook_retry_schedule=(0, 1))):
            tries = receiver.wait_for(3)
            wait_until(lambda: deliveries(engine, endpoint)[0].status == "failed")
            time.sleep(0.5)
    assert len(receiver.received) == 3
    assert len({request.headers["webhook-id"] for request in tries}) == 1
    assert tries[2].at - tries[1].at >= 0.95  # the schedule's second wait, 1 s
    [row] = deliveries(engine, endpoint)
    assert (row.status, row.attempts, row.last_status) == ("failed", 3, 500)
    assert row.last_error == "answered 500: database down"
    assert row.next_attempt_at is None


def test_a_failed_delivery_retried_by_hand_gets_exactly_one_more_try(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    quick = for_tests(settings, webhook_retry_schedule=(0,))
    log = ""

    def status() -> str:
        return str(client.get(log, headers=alice.headers).json()["data"][0]["status"])

    with receiving(status=503) as receiver:
        endpoint = register(client, alice, receiver.url)
        create_company(client, BASE, alice)
        log = f"{BASE}/webhook-endpoints/{endpoint['id']}/deliveries"
        with running(engine, quick):
            receiver.wait_for(2)
            wait_until(lambda: status() == "failed")
            event_id = receiver.received[0].headers["webhook-id"]
            retried = client.post(f"{log}/{event_id}/retry", headers=alice.headers)
            assert retried.status_code == 202, retried.text
            receiver.wait_for(3)
            wait_until(lambda: status() == "failed")
            time.sleep(0.5)
    assert len(receiver.received) == 3
    [row] = client.get(log, headers=alice.headers).json()["data"]
    assert (row["status"], row["attempts"], row["last_status"]) == ("failed", 3, 503)


def test_an_endpoint_gets_its_events_in_the_order_they_happened(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    with receiving() as receiver:
        add_endpoint(engine, alice.id, receiver.url)
        company = create_company(client, BASE, alice)
        for n in range(15):
            rename(client, alice, company["id"], f"Clinica {n}")
        with running(engine, for_tests(settings)):
            got = receiver.wait_for(16)
    expected = stored_bodies(engine, alice)
    assert [request.body.decode() for request in got] == expected


def test_events_written_while_the_worker_runs_arrive_in_order_too(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    with receiving() as receiver, running(engine, for_tests(settings)):
        add_endpoint(engine, alice.id, receiver.url)
        company = create_company(client, BASE, alice)
        for n in range(10):
            rename(client, alice, company["id"], f"Clinica {n}")
        got = receiver.wait_for(11)
    assert [request.body.decode() for request in got] == stored_bodies(engine, alice)


def test_an_endpoint_gets_only_the_event_types_it_asked_for(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    with receiving() as receiver, running(engine, for_tests(settings)):
        add_endpoint(engine, alice.id, receiver.url, event_types=["company.updated"])
        company = create_company(client, BASE, alice)
        rename(client, alice, company["id"], "Clinica Two")
        [request] = receiver.wait_for(1)
        time.sleep(0.3)
    assert len(receiver.received) == 1
    assert b'"type":"company.updated"' in request.body


def test_a_disabled_endpoint_gets_nothing_and_its_deliveries_wait_until_it_is_enabled(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    with receiving() as receiver:
        endpoint = add_endpoint(engine, alice.id, receiver.url)
        create_company(client, BASE, alice)
        set_enabled(engine, endpoint, False)
        with running(engine, for_tests(settings)):
            time.sleep(0.5)
            assert receiver.received == []
            assert deliveries(engine, endpoint)[0].status == "pending"
            set_enabled(engine, endpoint, True)
            receiver.wait_for(1, timeout=5)
    assert len(receiver.received) == 1
    assert deliveries(engine, endpoint)[0].status == "succeeded"


def test_a_redirect_is_a_failure_and_is_never_followed(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    with receiving() as target, receiving(status=302, location="") as redirecting:
        redirecting.location = target.url
        endpoint = add_endpoint(engine, alice.id, redirecting.url)
        create_company(client, BASE, alice)
        with running(engine, for_tests(settings, webhook_retry_schedule=())):
            redirecting.wait_for(1)
            wait_until(lambda: deliveries(engine, endpoint)[0].status == "failed")
    assert target.connections == 0
    [row] = deliveries(engine, endpoint)
    assert (row.status, row.attempts, row.last_status) == ("failed", 1, 302)
    assert "redirects are not followed" in row.last_error


def test_an_answer_after_the_timeout_is_a_failure(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    with receiving(delay=2.5) as receiver:
        endpoint = add_endpoint(engine, alice.id, receiver.url)
        create_company(client, BASE, alice)
        quick = for_tests(settings, webhook_timeout=1, webhook_retry_schedule=(60,))
        with running(engine, quick):
            receiver.wait_for(1)
            wait_until(lambda: deliveries(engine, endpoint)[0].attempts == 1, timeout=5)
    [row] = deliveries(engine, endpoint)
    assert (row.status, row.last_status) == ("pending", None)
    assert row.last_error == "no answer within 1 s"
    assert row.next_attempt_at is not None


def test_a_slow_endpoint_does_not_delay_another_partners_delivery(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner, bob: Partner
) -> None:
    timeout = 3
    with receiving(delay=timeout + 2) as slow, receiving() as fast:
        add_endpoint(engine, alice.id, slow.url)
        add_endpoint(engine, bob.id, fast.url)
        with running(engine, for_tests(settings, webhook_timeout=timeout)):
            create_company(client, BASE, alice)
            slow.wait_for(1)  # alice's endpoint now holds its delivery open
            started = time.monotonic()
            create_company(client, BASE, bob)
            [request] = fast.wait_for(1, timeout=timeout)
    assert request.at - started < timeout - 1
    assert request.at < slow.received[0].at + timeout


def test_a_delivery_to_a_loopback_address_is_refused_when_it_would_connect(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    strict = for_tests(settings, webhook_allow_private_urls=False, webhook_retry_schedule=())
    with receiving() as receiver:
        endpoint = add_endpoint(engine, alice.id, f"https://localhost:{receiver.port}/hook")
        create_company(client, BASE, alice)
        with running(engine, strict):
            wait_until(lambda: deliveries(engine, endpoint)[0].status == "failed", timeout=5)
    assert receiver.connections == 0
    [row] = deliveries(engine, endpoint)
    assert row.last_status is None
    assert row.last_error.startswith("refused to connect: localhost resolves to ")
    assert "127.0.0.1" in row.last_error


def test_a_huge_answer_is_cut_at_64_kib_and_logged(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    with receiving(status=413, answer=b"y" * (8 * 1024 * 1024)) as receiver:
        endpoint = add_endpoint(engine, alice.id, receiver.url)
        create_company(client, BASE, alice)
        with running(engine, for_tests(settings, webhook_retry_schedule=())):
            wait_until(lambda: deliveries(engine, endpoint)[0].status == "failed", timeout=5)
    [row] = deliveries(engine, endpoint)
    assert row.last_status == 413
    assert row.last_error == f"answered 413: {'y' * 200} (the body was cut at 64 KiB)"


def test_the_verification_snippet_of_the_docs_verifies_a_real_delivery(
    client: TestClient[Any], engine: Engine, settings: Settings, alice: Partner
) -> None:
    page = (Path(__file__).parent.parent / "docs" / "webhooks.md").read_text()
    snippet = page.split("## Verifying signatures")[1].split("```python\n")[1].split("```")[0]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "docs/webhooks.md", "exec"), namespace)
    verify = namespace["verify"]
    with receiving() as receiver, running(engine, for_tests(settings)):
        endpoint = register(client, alice, receiver.url)
        create_company(client, BASE, alice)
        [request] = receiver.wait_for(1, timeout=5)
    event = verify(endpoint["secret"], request.headers, request.body)
    assert event["id"] == request.headers["webhook-id"]
    with pytest.raises(ValueError, match="no valid webhook signature"):
        verify(endpoint["secret"], request.headers, request.body + b" ")
    with pytest.raises(ValueError, match="no valid webhook signature"):
        verify("whsec_" + "A" * 32, request.headers, request.body)

"""`/webhook-endpoints`: a partner registers where its events go (the secret shown once, at
most 10), filters them, disables and removes endpoints, reads the deliveries log and retries."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, select, update

from crosspath.api.app import create_app
from crosspath.settings import Settings
from crosspath.store.tables import webhook_deliveries
from crosspath.store.transaction import transaction
from tests.conftest import Partner, create_company, error_of
from tests.webhook_setup import allowing_private_urls

BASE = "/partners/v1"
HOOKS = f"{BASE}/webhook-endpoints"
URL = "http://127.0.0.1:9/hooks"  # never called here: no worker runs in these tests


def register(client: TestClient[Any], partner: Partner, **body: Any) -> dict[str, Any]:
    response = client.post(HOOKS, json={"url": URL} | body, headers=partner.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture
def settings(database_url: str) -> Settings:
    return allowing_private_urls(database_url)


def queued(engine: Engine, endpoint_id: str) -> list[tuple[str, str]]:
    with transaction(engine) as conn:
        rows = conn.execute(
            select(webhook_deliveries.c.event_type, webhook_deliveries.c.status)
            .where(webhook_deliveries.c.endpoint_id == endpoint_id)
            .order_by(webhook_deliveries.c.event_seq)
        )
        return [(row.event_type, row.status) for row in rows]


def test_the_secret_is_shown_once_and_the_endpoint_is_listed_without_it(
    client: TestClient[Any], alice: Partner
) -> None:
    created = client.post(HOOKS, json={"url": URL, "description": "ATS"}, headers=alice.headers)
    assert created.status_code == 201
    endpoint = created.json()
    assert endpoint["secret"].startswith("whsec_")
    assert created.headers["location"] == f"{HOOKS}/{endpoint['id']}"
    assert endpoint["enabled"] is True
    assert endpoint["event_types"] is None
    shown = client.get(f"{HOOKS}/{endpoint['id']}", headers=alice.headers)
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    assert shown.json() == {k: v for k, v in endpoint.items() if k != "secret"}
    listed = client.get(HOOKS, headers=alice.headers).json()
    assert listed == {"data": [shown.json()]}
    assert endpoint["secret"] not in client.get(HOOKS, headers=alice.headers).text


def test_at_most_ten_endpoints_per_partner(client: TestClient[Any], alice: Partner) -> None:
    for _ in range(10):
        register(client, alice)
    eleventh = client.post(HOOKS, json={"url": URL}, headers=alice.headers)
    assert eleventh.status_code == 409
    assert "10 webhook endpoints" in error_of(eleventh)
    assert len(client.get(HOOKS, headers=alice.headers).json()["data"]) == 10


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "url is required"),
        ({"url": "ftp://x.example"}, "url must be an http or https URL"),
        ({"url": URL, "event_types": ["mission.eaten"]}, "event_types must be one of"),
        ({"url": URL, "event_types": []}, "event_types must be a non-empty array"),
        ({"url": URL, "enabled": "yes"}, "enabled must be true or false"),
        ({"url": URL, "secret": "whsec_x"}, "secret is not a known field"),
    ],
)
def test_a_bad_endpoint_is_a_400_naming_the_field(
    client: TestClient[Any], alice: Partner, body: dict[str, Any], message: str
) -> None:
    response = client.post(HOOKS, json=body, headers=alice.headers)
    assert response.status_code == 400
    assert message in error_of(response)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example/x", "url must use https"),
        ("https://127.0.0.1/x", "private, loopback or reserved"),
        ("https://localhost/x", "private, loopback or reserved"),
        ("https://[::1]/x", "private, loopback or reserved"),
        ("https://10.1.2.3/x", "private, loopback or reserved"),
        ("https://169.254.169.254/latest", "private, loopback or reserved"),
        ("https://[::ffff:127.0.0.1]/x", "private, loopback or reserved"),
        ("https://0.0.0.0/x", "private, loopback or reserved"),
    ],
)
def test_without_the_development_flag_only_public_https_urls_are_accepted(
    client: TestClient[Any],
    settings: Settings,
    engine: Engine,
    alice: Partner,
    url: str,
    message: str,
) -> None:
    registered = register(client, alice)  # while private addresses were allowed
    strict = replace(settings, webhook_allow_private_urls=False)
    with TestClient(app=create_app(strict, engine)) as strict_client:
        response = strict_client.post(HOOKS, json={"url": url}, headers=alice.headers)
        assert response.status_code == 400
        assert message in error_of(response)
        one = f"{HOOKS}/{registered['id']}"
        moved = strict_client.patch(one, json={"url": url}, headers=alice.headers)
        assert moved.status_code == 400
        assert message in error_of(moved)
        assert strict_client.get(one, headers=alice.headers).json()["url"] == URL
        assert len(strict_client.get(HOOKS, headers=alice.headers).json()["data"]) == 1


def test_events_are_queued_for_the_enabled_endpoints_that_want_their_type(
    client: TestClient[Any], engine: Engine, alice: Partner, bob: Partner
) -> None:
    every = register(client, alice)
    missions_only = register(client, alice, event_types=["mission.created"])
    disabled = register(client, alice, enabled=False)
    bobs = register(client, bob)
    company = create_company(client, BASE, alice)
    client.post(f"{BASE}/missions", json={"company_id": company["id"], "title": "T",
                "description": "D", "position": "software_engineering", "location": "fr-paris"},
                headers=alice.headers)  # fmt: skip
    assert queued(engine, every["id"]) == [
        ("company.created", "pending"),
        ("mission.created", "pending"),
    ]
    assert queued(engine, missions_only["id"]) == [("mission.created", "pending")]
    assert queued(engine, disabled["id"]) == []
    assert queued(engine, bobs["id"]) == []


def test_patch_changes_the_filter_and_enables_and_disables(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    endpoint = register(client, alice)
    one = f"{HOOKS}/{endpoint['id']}"
    patched = client.patch(one, json={"event_types": ["company.updated"], "enabled": False},
                           headers=alice.headers)  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.json()["event_types"] == ["company.updated"]
    assert patched.json()["enabled"] is False
    assert patched.json()["updated_at"] > endpoint["updated_at"]
    assert client.get(one, headers=alice.headers).json() == patched.json()
    assert patched.headers["etag"] == client.get(one, headers=alice.headers).headers["etag"]
    company = create_company(client, BASE, alice)
    assert queued(engine, endpoint["id"]) == []
    client.patch(one, json={"enabled": True}, headers=alice.headers)
    client.patch(f"{BASE}/companies/{company['id']}", json={"name": "New"}, headers=alice.headers)
    assert queued(engine, endpoint["id"]) == [("company.updated", "pending")]
    stale = client.patch(one, json={"description": "x"},
                         headers=alice.headers | {"If-Match": '"stale"'})  # fmt: skip
    assert stale.status_code == 412


def test_another_partners_endpoint_is_a_404_and_stays_as_it_was(
    client: TestClient[Any], alice: Partner, bob: Partner
) -> None:
    endpoint = register(client, alice)
    one = f"{HOOKS}/{endpoint['id']}"
    for response in (
        client.get(one, headers=bob.headers),
        client.patch(one, json={"enabled": False}, headers=bob.headers),
        client.delete(one, headers=bob.headers),
        client.get(f"{one}/deliveries", headers=bob.headers),
    ):
        assert response.status_code == 404
        assert "webhook endpoint does not exist" in error_of(response)
    assert client.get(one, headers=alice.headers).json()["enabled"] is True


def test_delete_removes_the_endpoint_and_its_deliveries(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    endpoint = register(client, alice)
    create_company(client, BASE, alice)
    assert len(queued(engine, endpoint["id"])) == 1
    assert client.delete(f"{HOOKS}/{endpoint['id']}", headers=alice.headers).status_code == 204
    assert client.get(f"{HOOKS}/{endpoint['id']}", headers=alice.headers).status_code == 404
    assert queued(engine, endpoint["id"]) == []


def test_the_deliveries_log_pages_newest_first_and_a_retry_queues_one_again(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    endpoint = register(client, alice)
    company = create_company(client, BASE, alice)
    for name in ("a", "b"):
        client.patch(f"{BASE}/companies/{company['id']}", json={"name": name},
                     headers=alice.headers)  # fmt: skip
    log = f"{HOOKS}/{endpoint['id']}/deliveries"
    first = client.get(log, params={"limit": 2}, headers=alice.headers).json()
    assert [d["event_type"] for d in first["data"]] == ["company.updated", "company.updated"]
    rest = client.get(log, params={"cursor": first["next_cursor"]}, headers=alice.headers).json()
    assert [d["event_type"] for d in rest["data"]] == ["company.created"]
    assert rest["next_cursor"] is None
    delivery = rest["data"][0]
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == 0
    with transaction(engine, write=True) as conn:  # as a worker leaves a delivery it gave up on
        conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.event_id == delivery["event_id"])
            .values(status="failed", attempts=8, next_attempt_at=None, last_status=500)
        )
    failed = client.get(log, params={"status": "failed"}, headers=alice.headers).json()["data"]
    assert [d["event_id"] for d in failed] == [delivery["event_id"]]
    retried = client.post(f"{log}/{delivery['event_id']}/retry", headers=alice.headers)
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "pending"
    assert retried.json()["attempts"] == 8
    assert retried.json()["next_attempt_at"] is not None
    missing = client.post(f"{log}/evt_01M8T244XC0X3ZX44QYC8CK2TP/retry", headers=alice.headers)
    assert missing.status_code == 404
    bad = client.get(log, params={"status": "lost"}, headers=alice.headers)
    assert bad.status_code == 400
    assert "status must be one of: pending, succeeded, failed" in error_of(bad)


def test_a_disabled_endpoints_delivery_is_not_retried(
    client: TestClient[Any], alice: Partner
) -> None:
    endpoint = register(client, alice)
    create_company(client, BASE, alice)
    log = f"{HOOKS}/{endpoint['id']}/deliveries"
    event_id = client.get(log, headers=alice.headers).json()["data"][0]["event_id"]
    client.patch(f"{HOOKS}/{endpoint['id']}", json={"enabled": False}, headers=alice.headers)
    refused = client.post(f"{log}/{event_id}/retry", headers=alice.headers)
    assert refused.status_code == 409
    assert "disabled" in error_of(refused)

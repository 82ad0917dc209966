"""The Python client against the real server over HTTP: pages, batches, PUT by external id,
idempotency keys, errors, references."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from crosspath_client import (
    ApiError,
    Client,
    Company,
    Feed,
    InvalidSignature,
    Mission,
    verify_webhook,
)

from tests.conftest import Partner
from tests.served import Served, served_fixture  # noqa: F401


@pytest.fixture
def partner(served: Served) -> Partner:
    return served.partner()


@pytest.fixture
def seen() -> list[httpx.Response]:
    return []


@pytest.fixture
def client(served: Served, partner: Partner, seen: list[httpx.Response]) -> Iterator[Client]:
    with Client(served.url, partner.key, on_response=seen.append) as client:
        yield client


def company(external_id: str, **fields: object) -> dict[str, object]:
    return {"external_id": external_id, "name": f"Company {external_id}"} | fields


def mission(external_id: str, company_external_id: str = "c-1") -> dict[str, object]:
    return {
        "external_id": external_id,
        "company_external_id": company_external_id,
        "title": f"Engineer {external_id}",
        "description": "<p>Build things.</p>",
        "position": "software_engineering",
        "location": "fr-paris",
    }


def test_put_many_splits_any_list_into_batches_of_100(
    client: Client, served: Served, partner: Partner
) -> None:
    client.companies.put(company("c-1")["external_id"], company("c-1"))  # type: ignore[arg-type]
    results = list(client.missions.put_many(mission(f"jd-{i}") for i in range(250)))
    assert [len(batch.results) for batch in results] == [100, 100, 50]
    assert sum(batch.summary.created for batch in results) == 250
    batches = [c for c in served.calls(partner) if c["path"] == "/partners/v1/missions/batch"]
    assert len(batches) == 3


def test_list_follows_every_page_in_creation_order(client: Client) -> None:
    list(client.companies.put_many(company(f"c-{i:03}") for i in range(230)))
    pages = list(client.companies.pages())
    listed = [record.external_id for page in pages for record in page.data]
    assert [len(page.data) for page in pages] == [100, 100, 30]
    assert listed == [f"c-{i:03}" for i in range(230)]
    assert all(isinstance(record, Company) for record in client.companies.list())


def test_put_by_external_id_creates_then_replaces_any_id(client: Client) -> None:
    external_id = "a/1 ?&%x"
    created = client.companies.put(external_id, company(external_id, website="https://a.example"))
    replaced = client.companies.put(external_id, company(external_id))
    assert replaced.id == created.id
    assert (created.website, replaced.website) == ("https://a.example", None)
    assert [c.id for c in client.companies.list(external_id=external_id)] == [created.id]


def test_every_post_carries_an_idempotency_key_and_the_same_key_replays(
    client: Client, seen: list[httpx.Response]
) -> None:
    client.companies.create(company("c-1"))
    assert seen[-1].request.headers["Idempotency-Key"].startswith("cpc-")
    first = client.companies.create(company("c-2"), idempotency_key="create-c-2")
    replay = client.companies.create(company("c-2"), idempotency_key="create-c-2")
    assert seen[-1].headers["Idempotent-Replayed"] == "true"
    assert replay == first
    batch = client.companies.batch([company("c-3")])
    assert seen[-1].request.headers["Idempotency-Key"].startswith("cpc-")
    assert batch.results[0].status == 201
    assert len(list(client.companies.list())) == 3


def test_errors_carry_the_status_the_message_and_the_request_id(
    client: Client, seen: list[httpx.Response]
) -> None:
    with pytest.raises(ApiError) as raised:
        client.missions.get("msn_01JD3B0RTSQ6V3J5M4F3K7Q8ZW")
    assert raised.value.status == 404
    assert raised.value.message == (
        "This mission does not exist or you don't have the permission to access it."
    )
    assert raised.value.request_id == seen[-1].headers["X-Request-Id"]
    assert raised.value.request_id in str(raised.value)


def test_a_wrong_key_is_refused_with_the_401_message(served: Served) -> None:
    with Client(served.url, "Recruitment-" + "0" * 32) as client, pytest.raises(ApiError) as raised:
        list(client.companies.list())
    assert (raised.value.status, raised.value.message) == (401, "Please provide your API key.")


def test_the_key_comes_from_the_environment_and_the_url_may_name_the_base_path(
    served: Served, partner: Partner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSPATH_API_KEY", partner.key)
    for url in (served.url, f"{served.url}/partners/v1", f"{served.url}/partners/hunteron/v1/"):
        with Client(url) as client:
            assert list(client.companies.list()) == []
    monkeypatch.delenv("CROSSPATH_API_KEY")
    with pytest.raises(ValueError, match="CROSSPATH_API_KEY"):
        Client(served.url)


def test_a_private_mission_is_deleted_and_a_live_one_closed(client: Client, served: Served) -> None:
    from tests.conftest import set_status

    client.companies.put("c-1", company("c-1"))
    private = client.missions.put("jd-1", mission("jd-1"))
    live = client.missions.put("jd-2", mission("jd-2"))
    set_status(served.engine, live.id, "live")
    client.missions.delete(private.id)
    with pytest.raises(ApiError) as raised:
        client.missions.delete(live.id)
    assert raised.value.status == 409
    closed = client.missions.close(live.id)
    assert isinstance(closed, Mission)
    assert closed.status == "closed"
    assert [m.external_id for m in client.missions.list()] == ["jd-2"]


def test_references_are_typed_values(client: Client) -> None:
    positions = client.references("positions")
    assert "software_engineering" in {value.code for value in positions}
    paris = next(value for value in client.references("locations") if value.code == "fr-paris")
    assert paris.country == "FR"


def test_the_client_package_never_imports_the_server() -> None:
    package = Path(__file__).resolve().parents[1] / "client" / "src" / "crosspath_client"
    for source in package.rglob("*.py"):
        for line in source.read_text().splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                assert words[1].split(".")[0] != "crosspath", f"{source}: {line}"


def test_the_feed_yields_each_event_once_and_keeps_its_cursor_in_a_file(
    client: Client, served: Served, tmp_path: Path
) -> None:
    from tests.conftest import set_status

    client.companies.put("c-1", company("c-1"))
    live = client.missions.put("jd-1", mission("jd-1"))
    set_status(served.engine, live.id, "live")
    gone = client.missions.put("jd-2", mission("jd-2"))
    client.missions.delete(gone.id)
    cursor = tmp_path / "feed-cursor"
    events = list(Feed(client, cursor))
    assert [event.type for event in events] == [
        "company.created", "mission.created", "mission.updated", "mission.created",
        "mission.deleted",
    ]  # fmt: skip
    published = events[2]
    assert (published.actor, published.data.changed) == ("crosspath", ["status"])
    assert published.data.object["status"] == "live"
    assert events[4].data.object == {"id": gone.id, "external_id": "jd-2"}
    assert events[4].record() is None
    assert events[0].record() == client.companies.get(events[0].data.object["id"])
    record = published.record()
    assert isinstance(record, Mission)
    assert record.status == "live"
    assert cursor.read_text().strip()
    assert list(Feed(client, cursor)) == []
    client.companies.put("c-1", company("c-1", website="https://c1.example"))
    (changed,) = Feed(client, cursor)
    assert (changed.type, changed.data.changed) == ("company.updated", ["website"])


def test_a_consumer_that_stops_mid_page_gets_the_rest_again(client: Client, tmp_path: Path) -> None:
    list(client.companies.put_many(company(f"c-{i}") for i in range(3)))
    cursor = tmp_path / "feed-cursor"
    for event in Feed(client, cursor):
        assert event.data.object["external_id"] == "c-0"
        break  # a crash before the page was done
    again = [event.data.object["external_id"] for event in Feed(client, cursor)]
    assert again == ["c-0", "c-1", "c-2"]


def test_webhook_endpoints_are_registered_listed_changed_and_removed(client: Client) -> None:
    created = client.webhook_endpoints.create(
        "http://127.0.0.1:9/hooks", event_types=["mission.updated"], description="ATS"
    )
    assert created.secret is not None
    assert created.secret.startswith("whsec_")
    assert created.event_types == ["mission.updated"]
    listed = list(client.webhook_endpoints.list())
    assert [endpoint.id for endpoint in listed] == [created.id]
    assert listed[0].secret is None  # shown once
    changed = client.webhook_endpoints.update(created.id, {"enabled": False, "event_types": None})
    assert (changed.enabled, changed.event_types) == (False, None)
    assert client.webhook_endpoints.get(created.id) == changed
    assert list(client.webhook_endpoints.deliveries(created.id)) == []
    client.webhook_endpoints.update(created.id, {"enabled": True})
    client.companies.put("c-1", company("c-1"))
    (delivery,) = client.webhook_endpoints.deliveries(created.id)
    assert delivery.event_type == "company.created"
    retried = client.webhook_endpoints.retry(created.id, delivery.event_id)
    assert (retried.event_id, retried.status) == (delivery.event_id, "pending")
    client.webhook_endpoints.delete(created.id)
    with pytest.raises(ApiError) as raised:
        client.webhook_endpoints.get(created.id)
    assert raised.value.status == 404


def test_a_real_delivery_verifies_with_the_endpoint_secret(client: Client) -> None:
    received: list[tuple[bytes, dict[str, str]]] = []

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            received.append((body, dict(self.headers)))
            self.send_response(204)
            self.end_headers()

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"
        endpoint = client.webhook_endpoints.create(url, event_types=["company.created"])
        assert endpoint.secret is not None
        client.companies.put("c-1", company("c-1"))
        for _ in range(300):  # the worker beside the server sends it within seconds
            if received:
                break
            time.sleep(0.05)
        (body, headers), *_ = received
        event = verify_webhook(body, headers, endpoint.secret)
        (from_feed,) = Feed(client)
        assert event == from_feed
        assert json.loads(body)["data"]["object"]["external_id"] == "c-1"
        with pytest.raises(InvalidSignature):
            verify_webhook(body + b" ", headers, endpoint.secret)
    finally:
        receiver.shutdown()
        receiver.server_close()

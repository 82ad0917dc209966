"""`GET /events`: every committed change of a partner's companies and missions is one event,
in order, seen once by a reader that follows `next_cursor`, and only by that partner."""

from __future__ import annotations

import base64
import random
import threading
import time
from datetime import timedelta
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, event, select, update

from crosspath.companies import service as companies
from crosspath.events import service as feed
from crosspath.missions import review
from crosspath.missions import service as missions
from crosspath.store.tables import events
from crosspath.store.transaction import transaction
from crosspath.timestamps import utcnow
from tests.conftest import Partner, create_company, create_mission, error_of, mission_body

BASE = "/partners/v1"


def follow(
    client: TestClient[Any], partner: Partner, after: str | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], str]:
    """Every event after the cursor, page by page; and the cursor to ask with next."""
    seen: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"after": after} if after else {})
        response = client.get(f"{BASE}/events", params=params, headers=partner.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"data", "next_cursor", "has_more"}
        assert isinstance(page["next_cursor"], str)
        assert page["next_cursor"]
        seen += page["data"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return seen, after


def test_each_write_is_one_event_with_the_record_after_it_and_what_changed(
    client: TestClient[Any], alice: Partner
) -> None:
    company = create_company(client, BASE, alice)
    mission = create_mission(client, BASE, alice, company["id"])
    patched = client.patch(
        f"{BASE}/missions/{mission['id']}", json={"openings": 3}, headers=alice.headers
    )
    assert patched.status_code == 200
    deleted = client.delete(f"{BASE}/missions/{mission['id']}", headers=alice.headers)
    assert deleted.status_code == 204

    seen, _ = follow(client, alice)
    assert [e["type"] for e in seen] == [
        "company.created",
        "mission.created",
        "mission.updated",
        "mission.deleted",
    ]
    assert all(e["actor"] == "partner" and e["id"].startswith("evt_") for e in seen)
    assert seen[0]["data"]["object"] == company
    assert "name" in seen[0]["data"]["changed"]
    assert seen[1]["data"]["object"] == mission
    assert seen[2]["data"] == {"object": patched.json(), "changed": ["openings"]}
    assert seen[3]["data"] == {
        "object": {"id": mission["id"], "external_id": None},
        "changed": [],
    }
    assert [e["created_at"] for e in seen] == sorted(e["created_at"] for e in seen)


def test_a_write_that_changes_nothing_or_is_refused_makes_no_event(
    client: TestClient[Any], alice: Partner
) -> None:
    company = create_company(client, BASE, alice, external_id="c-1")
    _, cursor = follow(client, alice)
    same = client.patch(
        f"{BASE}/companies/{company['id']}", json={"name": company["name"]}, headers=alice.headers
    )
    assert same.status_code == 200
    refused = client.patch(
        f"{BASE}/companies/{company['id']}", json={"sector": "nope"}, headers=alice.headers
    )
    assert refused.status_code == 400
    taken = client.post(f"{BASE}/companies", json={"name": "X", "external_id": "c-1"},
                        headers=alice.headers)  # fmt: skip
    assert taken.status_code == 409
    put = client.put(f"{BASE}/companies/by-external-id/c-1",
                     json={k: v for k, v in company.items() if k not in ("id", "created_at",
                                                                         "updated_at")},
                     headers=alice.headers)  # fmt: skip
    assert put.status_code == 200
    assert put.json()["updated_at"] == company["updated_at"]
    assert follow(client, alice, cursor) == ([], cursor)


def test_puts_and_batches_give_one_event_per_record_they_change(
    client: TestClient[Any], alice: Partner
) -> None:
    company = create_company(client, BASE, alice)
    items = [mission_body(company["id"], external_id=f"m-{i}") for i in range(3)]
    first = client.post(f"{BASE}/missions/batch", json={"items": items}, headers=alice.headers)
    assert first.json()["summary"]["created"] == 3
    _, cursor = follow(client, alice)
    items[0]["title"] = "Staff Engineer"
    items[1]["position"] = "nope"  # refused: no event
    again = client.post(f"{BASE}/missions/batch", json={"items": items}, headers=alice.headers)
    assert again.json()["summary"] == {"created": 0, "updated": 1, "unchanged": 1, "failed": 1}
    put = client.put(
        f"{BASE}/missions/by-external-id/m-new",
        json=mission_body(company["id"]),
        headers=alice.headers,
    )
    assert put.status_code == 201
    seen, _ = follow(client, alice, cursor)
    assert [(e["type"], e["data"]["object"]["external_id"]) for e in seen] == [
        ("mission.updated", "m-0"),
        ("mission.created", "m-new"),
    ]
    assert seen[0]["data"]["changed"] == ["title"]
    assert seen[1]["data"]["object"] == put.json()


def test_a_batch_that_falls_back_to_one_by_one_records_each_change_once(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    company = create_company(client, BASE, alice)
    _, cursor = follow(client, alice)
    # A record created by another request after the batch looked its items up: the bulk
    # insert fails, and the batch applies its items one by one.
    with transaction(engine, write=True) as conn:
        parsed = [(key, missions.parse_put(mission_body(company["id"]), key)) for key in ("a", "b")]
        existing = missions.put_mission(conn, alice.id, "b", parsed[1][1])
        assert existing.state == "created"
    with transaction(engine, write=True) as conn:
        from crosspath.missions.schema import MISSIONS

        real = MISSIONS.find_by_external_ids
        MISSIONS.find_by_external_ids = lambda *_: {}  # type: ignore[method-assign]
        try:
            result = missions.put_missions(conn, alice.id, parsed)
        finally:
            MISSIONS.find_by_external_ids = real  # type: ignore[method-assign]
    assert [r["status"] for r in result["results"]] == [201, 409]
    seen, _ = follow(client, alice, cursor)
    assert [(e["type"], e["data"]["object"]["external_id"]) for e in seen] == [
        ("mission.created", "b"),
        ("mission.created", "a"),
    ]


def test_an_operators_decision_is_an_event_by_crosspath_with_its_reason(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    mission = create_mission(client, BASE, alice)
    _, cursor = follow(client, alice)
    with transaction(engine, write=True) as conn:
        review.set_status(conn, mission["id"], "live", reason="Checked by the review team")
    with transaction(engine, write=True) as conn:
        review.set_status(conn, mission["id"], "live", reason="again")  # no change: no event
    closed = client.patch(
        f"{BASE}/missions/{mission['id']}", json={"status": "closed"}, headers=alice.headers
    )
    seen, _ = follow(client, alice, cursor)
    assert [(e["actor"], e["data"]["changed"]) for e in seen] == [
        ("crosspath", ["status"]),
        ("partner", ["status"]),
    ]
    assert seen[0]["data"]["reason"] == "Checked by the review team"
    assert seen[0]["data"]["object"]["status"] == "live"
    assert seen[0]["data"]["object"]["updated_at"] > mission["updated_at"]
    assert "reason" not in seen[1]["data"]
    assert seen[1]["data"]["object"] == closed.json()


def test_only_the_partners_own_events_are_visible(
    client: TestClient[Any], alice: Partner, bob: Partner
) -> None:
    create_mission(client, BASE, alice)
    assert follow(client, bob)[0] == []
    seen, cursor = follow(client, alice)
    assert len(seen) == 2
    # Alice's cursor names a position bob's feed has not reached: refused, not read.
    response = client.get(f"{BASE}/events", params={"after": cursor}, headers=bob.headers)
    assert response.status_code == 400
    assert "cursor" in error_of(response)


def test_the_cursor_is_never_null_and_pages_neither_skip_nor_repeat(
    client: TestClient[Any], alice: Partner
) -> None:
    empty, cursor = follow(client, alice)
    assert empty == []
    company = create_company(client, BASE, alice)
    for i in range(6):
        client.patch(f"{BASE}/companies/{company['id']}", json={"name": f"Name {i}"},
                     headers=alice.headers)  # fmt: skip
    paged, cursor = follow(client, alice, cursor, limit=2)
    assert [e["data"]["object"].get("name") for e in paged] == [
        "Clinica Health",
        *(f"Name {i}" for i in range(6)),
    ]
    assert len({e["id"] for e in paged}) == 7
    assert follow(client, alice, cursor) == ([], cursor)
    response = client.get(f"{BASE}/events", params={"limit": 2}, headers=alice.headers)
    assert response.json()["has_more"] is True


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"after": "nonsense"}, "after is not a cursor of your feed"),
        ({"after": base64.urlsafe_b64encode(b"events:x").decode()}, "after is not a cursor"),
        ({"limit": "0"}, "limit must be an integer between 1 and 100"),
        ({"limit": "101"}, "limit must be an integer between 1 and 100"),
        ({"cursor": "x"}, "cursor is not a known query parameter"),
    ],
)
def test_a_bad_query_is_a_400_naming_it(
    client: TestClient[Any], alice: Partner, params: dict[str, str], message: str
) -> None:
    response = client.get(f"{BASE}/events", params=params, headers=alice.headers)
    assert response.status_code == 400
    assert message in error_of(response)


def test_events_past_their_retention_are_purged_and_an_older_cursor_gets_410(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    company = create_company(client, BASE, alice)
    start = client.get(f"{BASE}/events", params={"limit": 1}, headers=alice.headers)
    before_all = feed.encode_cursor(0)
    after_first = start.json()["next_cursor"]
    client.patch(f"{BASE}/companies/{company['id']}", json={"name": "Renamed"},
                 headers=alice.headers)  # fmt: skip
    with transaction(engine, write=True) as conn:  # the creation is 31 days old
        old = utcnow() - timedelta(days=31)
        conn.execute(update(events).where(events.c.seq == 1).values(created_at=old))
        assert feed.purge(conn, 30) == 1
    gone = client.get(f"{BASE}/events", params={"after": before_all}, headers=alice.headers)
    assert gone.status_code == 410
    message = error_of(gone)
    assert "30 days" in message
    assert "updated_since" in message
    kept, _ = follow(client, alice)
    assert [e["data"]["object"]["name"] for e in kept] == ["Renamed"]
    assert [e["data"]["object"]["name"] for e in follow(client, alice, after_first)[0]] == [
        "Renamed"
    ]


def test_concurrent_writers_commit_out_of_order_and_a_follower_sees_each_event_once(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    """Writers whose COMMITs are delayed at random (so transactions that started in one order
    end in another) while a follower reads the feed as they go: it misses nothing and sees
    nothing twice."""
    writers, writes = 6, 15
    owned = [create_company(client, BASE, alice) for _ in range(writers)]  # no shared row lock
    _, cursor = follow(client, alice)

    def slow_commit(*_: Any) -> None:
        time.sleep(random.random() / 50)

    event.listen(engine, "commit", slow_commit)
    done = threading.Event()
    seen: list[dict[str, Any]] = []

    def write(n: int) -> None:
        for i in range(writes):
            with transaction(engine, write=True) as conn:
                parsed = companies.parse({"name": f"w{n}-{i}"}, creating=False)
                companies.update_company(conn, alice.id, owned[n]["id"], parsed)

    def read() -> None:
        nonlocal cursor
        while True:
            finished = done.is_set()
            with transaction(engine) as conn:
                query = feed.FeedQuery(feed.decode_cursor(cursor), 100)
                page = msgspec.json.decode(feed.page(conn, alice.id, query, 30))
            seen.extend(page["data"])
            cursor = page["next_cursor"]
            if finished and not page["has_more"]:
                return

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    follower = threading.Thread(target=read)
    follower.start()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        done.set()
        follower.join()
        event.remove(engine, "commit", slow_commit)
    names = [e["data"]["object"]["name"] for e in seen]
    assert len(seen) == writers * writes
    assert len({e["id"] for e in seen}) == len(seen)
    assert sorted(names) == sorted(f"w{n}-{i}" for n in range(writers) for i in range(writes))
    # Each writer's own changes appear in the order it made them.
    for n in range(writers):
        mine = [name for name in names if name.startswith(f"w{n}-")]
        assert mine == [f"w{n}-{i}" for i in range(writes)]
    # And the numbers run on without a gap.
    with transaction(engine) as conn:
        numbers = list(conn.scalars(select(events.c.seq).order_by(events.c.seq)))
    assert numbers == list(range(1, len(numbers) + 1))


def test_a_running_delivery_worker_purges_events_past_their_retention(
    client: TestClient[Any], engine: Engine, settings: Any, alice: Partner
) -> None:
    from tests.webhook_setup import running

    company = create_company(client, BASE, alice)
    client.patch(f"{BASE}/companies/{company['id']}", json={"name": "Renamed"},
                 headers=alice.headers)  # fmt: skip
    with transaction(engine, write=True) as conn:
        old = utcnow() - timedelta(days=settings.event_retention_days + 1)
        conn.execute(update(events).where(events.c.seq == 1).values(created_at=old))
    with running(engine, settings):
        deadline = time.monotonic() + 10
        while len(follow(client, alice)[0]) > 1 and time.monotonic() < deadline:
            time.sleep(0.1)
    kept, _ = follow(client, alice)
    assert [e["data"]["object"]["name"] for e in kept] == ["Renamed"]

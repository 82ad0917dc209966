"""Batches: up to 100 records keyed by the partner's ids, each applied as its PUT would be,
independently and all-or-nothing, answered in the order of the items."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from crosspath.api.app import create_app
from crosspath.settings import Settings
from tests.conftest import (
    Partner,
    company_body,
    create_company,
    error_of,
    mission_body,
    set_status,
)
from tests.contract import COMPANY_NOT_USABLE, STATUS_NOT_LIVE

Client = TestClient[Any]


def batch(client: Client, base: str, partner: Partner, noun: str, items: Any) -> httpx.Response:
    return client.post(f"{base}/{noun}/batch", json={"items": items}, headers=partner.headers)


def applied(client: Client, base: str, partner: Partner, noun: str, items: Any) -> Any:
    response = batch(client, base, partner, noun, items)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"results", "summary"}
    return response.json()


def listed(client: Client, base: str, partner: Partner, noun: str) -> list[Any]:
    response = client.get(f"{base}/{noun}", params={"limit": 100}, headers=partner.headers)
    assert response.status_code == 200, response.text
    data: list[Any] = response.json()["data"]
    return data


def put(client: Client, base: str, partner: Partner, noun: str, key: str, body: Any) -> Any:
    path = f"{base}/{noun}/by-external-id/{quote(key, safe='')}"
    response = client.put(path, json=body, headers=partner.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def company_item(key: str, **overrides: Any) -> dict[str, Any]:
    return company_body(external_id=key, **overrides)


def mission_item(key: str, company_id: str, **overrides: Any) -> dict[str, Any]:
    return mission_body(company_id, external_id=key, **overrides)


# Outcomes


def test_a_company_batch_answers_each_outcome_in_item_order_and_applies_the_good_ones(
    client: Client, base: str, alice: Partner
) -> None:
    updated = put(client, base, alice, "companies", "upd", company_body())
    unchanged = put(client, base, alice, "companies", "same", company_body())
    items = [
        company_item("new-1", name="First"),
        company_item("upd", name="Renamed"),
        company_item("bad", sector="not-a-sector"),
        company_item("same"),
        company_item("no-name") | {"name": None},
        company_item("new-2", website="https://two.example"),
    ]
    body = applied(client, base, alice, "companies", items)
    results = body["results"]
    assert [r["external_id"] for r in results] == [item["external_id"] for item in items]
    assert [r["status"] for r in results] == [201, 200, 400, 200, 400, 201]
    assert body["summary"] == {"created": 2, "updated": 1, "unchanged": 1, "failed": 2}

    assert set(results[2]) == {"external_id", "status", "error"}
    assert "sector" in results[2]["error"]
    assert "name" in results[4]["error"]
    assert results[1]["company"]["id"] == updated["id"]
    assert results[1]["company"]["name"] == "Renamed"
    assert results[3]["company"] == unchanged
    assert set(results[0]) == {"external_id", "status", "company"}

    stored = {c["external_id"]: c for c in listed(client, base, alice, "companies")}
    assert set(stored) == {"upd", "same", "new-1", "new-2"}
    for result in results:
        if result["status"] in (200, 201):
            assert stored[result["external_id"]] == result["company"]


def test_a_mission_batch_answers_created_updated_unchanged_400_and_403_and_applies_the_rest(
    client: Client, base: str, alice: Partner, engine: Engine
) -> None:
    company = put(client, base, alice, "companies", "c-1", company_body())
    private = put(client, base, alice, "missions", "private", mission_body(company["id"]))
    live = put(client, base, alice, "missions", "live", mission_body(company["id"]))
    set_status(engine, live["id"], "live")
    same = put(client, base, alice, "missions", "same", mission_body(company["id"], openings=2))
    items = [
        mission_item("private", company["id"], status="live", title="Sneaky"),
        mission_item("live", company["id"], status="closed"),
        mission_item("new", "unused") | {"company_id": None, "company_external_id": "c-1"},
        mission_item("same", company["id"], openings=2),
        mission_item("bad", company["id"], position="astronaut"),
        mission_item("born-live", company["id"], status="live"),
        mission_item("elsewhere", "cmp_01JD3B0RTSQ6V3J5M4F3K7Q8ZW"),
    ]
    items[2].pop("company_id")
    body = applied(client, base, alice, "missions", items)
    results = body["results"]
    assert [r["external_id"] for r in results] == [item["external_id"] for item in items]
    assert [r["status"] for r in results] == [403, 200, 201, 200, 400, 400, 400]
    assert body["summary"] == {"created": 1, "updated": 1, "unchanged": 1, "failed": 4}
    assert results[0]["error"] == STATUS_NOT_LIVE
    assert results[1]["mission"]["status"] == "closed"
    assert results[2]["mission"]["company_id"] == company["id"]
    assert results[3]["mission"] == same
    assert "position" in results[4]["error"]
    assert "status" in results[5]["error"]
    assert results[6]["error"] == COMPANY_NOT_USABLE

    stored = {m["external_id"]: m for m in listed(client, base, alice, "missions")}
    assert set(stored) == {"private", "live", "same", "new"}
    assert stored["private"] == private
    assert stored["live"]["status"] == "closed"


def test_a_failing_item_changes_nothing_of_its_own_record(
    client: Client, base: str, alice: Partner
) -> None:
    company = put(client, base, alice, "companies", "c-1", company_body())
    mission = put(client, base, alice, "missions", "m-1", mission_body(company["id"]))
    body = applied(
        client, base, alice, "missions",
        [mission_item("m-1", company["id"], title="New title", status="live")],
    )  # fmt: skip
    assert body["results"][0]["status"] == 403
    assert listed(client, base, alice, "missions") == [mission]


def test_a_batch_of_100_items_is_applied(client: Client, base: str, alice: Partner) -> None:
    items = [company_item(f"c-{i:03}", name=f"Company {i}") for i in range(100)]
    body = applied(client, base, alice, "companies", items)
    assert body["summary"] == {"created": 100, "updated": 0, "unchanged": 0, "failed": 0}
    assert [r["external_id"] for r in body["results"]] == [f"c-{i:03}" for i in range(100)]
    assert len(listed(client, base, alice, "companies")) == 100
    again = applied(client, base, alice, "companies", items)
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 100, "failed": 0}


def test_a_batch_never_touches_another_partners_records(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    alices = put(client, base, alice, "companies", "shared", company_body())
    alices_mission = put(client, base, alice, "missions", "jd", mission_body(alices["id"]))
    body = applied(client, base, bob, "companies", [company_item("shared", name="Bob's")])
    assert body["results"][0]["status"] == 201
    bobs = body["results"][0]["company"]
    assert bobs["id"] != alices["id"]

    missions = applied(
        client, base, bob, "missions",
        [mission_item("jd", alices["id"]), mission_item("jd-2", bobs["id"])],
    )  # fmt: skip
    assert [r["status"] for r in missions["results"]] == [400, 201]
    assert missions["results"][0]["error"] == COMPANY_NOT_USABLE
    assert listed(client, base, alice, "companies") == [alices]
    assert listed(client, base, alice, "missions") == [alices_mission]


# The batch refused as a whole


@pytest.mark.parametrize("noun", ["companies", "missions"])
@pytest.mark.parametrize("count", [0, 101])
def test_a_batch_of_0_or_more_than_100_items_is_one_400(
    client: Client, base: str, alice: Partner, noun: str, count: int
) -> None:
    company = create_company(client, base, alice)
    items = [
        company_item(f"x-{i}") if noun == "companies" else mission_item(f"x-{i}", company["id"])
        for i in range(count)
    ]
    response = batch(client, base, alice, noun, items)
    assert response.status_code == 400, response.text
    assert "100" in error_of(response)
    assert len(listed(client, base, alice, noun)) == (1 if noun == "companies" else 0)


@pytest.mark.parametrize(
    "body",
    [[], {}, {"items": {}}, {"items": "x"}, {"items": None}],
    ids=["array", "empty", "object-items", "string-items", "null-items"],
)
def test_a_body_that_is_not_an_object_with_an_items_array_is_one_400(
    client: Client, base: str, alice: Partner, body: Any
) -> None:
    response = client.post(f"{base}/companies/batch", json=body, headers=alice.headers)
    assert response.status_code == 400, response.text
    error_of(response)


def test_an_unknown_top_level_key_is_one_400_naming_it(
    client: Client, base: str, alice: Partner
) -> None:
    body = {"items": [company_item("c-1")], "dry_run": True}
    response = client.post(f"{base}/companies/batch", json=body, headers=alice.headers)
    assert response.status_code == 400, response.text
    assert "dry_run" in error_of(response)
    assert listed(client, base, alice, "companies") == []


def test_items_that_are_not_objects_or_lack_an_external_id_are_one_400_naming_them(
    client: Client, base: str, alice: Partner
) -> None:
    items = [company_item("ok"), "a string", company_body(), company_item("  "), 7]
    response = batch(client, base, alice, "companies", items)
    assert response.status_code == 400, response.text
    message = error_of(response)
    for index in (1, 2, 3, 4):
        assert f"items[{index}]" in message, message
    assert "items[0]" not in message
    assert listed(client, base, alice, "companies") == []


def test_a_repeated_external_id_is_one_400_naming_both_items_and_nothing_is_written(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice)
    items = [
        mission_item("m-1", company["id"]),
        mission_item("m-2", company["id"]),
        mission_item(" m-1 ", company["id"], title="Again"),
    ]
    response = batch(client, base, alice, "missions", items)
    assert response.status_code == 400, response.text
    message = error_of(response)
    for part in ('"m-1"', "items[2]", "items[0]"):
        assert part in message, message
    assert listed(client, base, alice, "missions") == []


def test_a_batch_body_over_1_mib_is_413_and_nothing_is_written(
    client: Client, base: str, alice: Partner
) -> None:
    items = [company_item(f"c-{i}", description="x" * 19_000) for i in range(60)]
    response = batch(client, base, alice, "companies", items)
    assert response.status_code == 413, response.text
    assert "1 MiB" in error_of(response)
    assert listed(client, base, alice, "companies") == []


# Rate limit


@pytest.fixture
def small_limit(settings: Settings, engine: Engine) -> Iterator[Client]:
    limited = dataclasses.replace(settings, rate_limit=3, rate_limit_window=30)
    with TestClient(app=create_app(limited, engine)) as client:
        yield client


def test_a_batch_counts_as_one_request_against_the_rate_limit(
    small_limit: Client, base: str, alice: Partner
) -> None:
    remaining = []
    for round_ in range(3):
        items = [company_item(f"c-{i}", name=f"Round {round_}") for i in range(50)]
        response = batch(small_limit, base, alice, "companies", items)
        assert response.status_code == 200, response.text
        remaining.append(int(response.headers["RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    refused = batch(small_limit, base, alice, "companies", [company_item("c-x")])
    assert refused.status_code == 429, refused.text

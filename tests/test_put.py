"""PUT by external id: create or replace the partner's record keyed by its own id, the mission
status rules on a PUT, and `company_external_id` wherever a mission write names its company."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from crosspath.references import schema as reference_schema
from crosspath.references import service as references
from crosspath.store.transaction import transaction
from tests.conftest import (
    Partner,
    company_body,
    create_company,
    error_of,
    mission_body,
    set_status,
)
from tests.contract import COMPANY_NOT_USABLE, STATUS_NOT_LIVE
from tests.test_server import issue_key, start, stop

Client = TestClient[Any]
SALARY = {"min": 50_000, "max": 70_000, "currency": "EUR", "period": "year"}


def put(
    client: Client, base: str, partner: Partner, noun: str, external_id: str, body: Any
) -> httpx.Response:
    path = f"{base}/{noun}/by-external-id/{quote(external_id, safe='')}"
    return client.put(path, json=body, headers=partner.headers)


def put_company(
    client: Client, base: str, partner: Partner, key: str, **overrides: Any
) -> httpx.Response:
    return put(client, base, partner, "companies", key, company_body(**overrides))


def put_mission(
    client: Client, base: str, partner: Partner, key: str, company_id: str, **overrides: Any
) -> httpx.Response:
    return put(client, base, partner, "missions", key, mission_body(company_id, **overrides))


def fetch(client: Client, base: str, partner: Partner, noun: str, record_id: str) -> Any:
    response = client.get(f"{base}/{noun}/{record_id}", headers=partner.headers)
    assert response.status_code == 200, response.text
    return response.json()


def listed(client: Client, base: str, partner: Partner, noun: str) -> list[Any]:
    response = client.get(f"{base}/{noun}", params={"limit": 100}, headers=partner.headers)
    assert response.status_code == 200, response.text
    data: list[Any] = response.json()["data"]
    return data


# Create, replace, no-op


def test_a_put_for_an_unknown_external_id_creates_the_company_with_201_and_location(
    client: Client, base: str, alice: Partner
) -> None:
    response = put_company(client, base, alice, "c-1", website="https://clinica.example")
    assert response.status_code == 201, response.text
    company = response.json()
    assert company["external_id"] == "c-1"
    assert company["website"] == "https://clinica.example"
    assert response.headers["Location"] == f"{base}/companies/{company['id']}"
    assert fetch(client, base, alice, "companies", company["id"]) == company


def test_a_put_for_an_unknown_external_id_creates_a_private_mission_with_201_and_location(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice)
    response = put_mission(client, base, alice, "m-1", company["id"])
    assert response.status_code == 201, response.text
    mission = response.json()
    assert (mission["external_id"], mission["status"]) == ("m-1", "private")
    assert response.headers["Location"] == f"{base}/missions/{mission['id']}"
    assert fetch(client, base, alice, "missions", mission["id"]) == mission


def test_a_put_for_a_known_external_id_replaces_the_company_with_200_and_no_location(
    client: Client, base: str, alice: Partner
) -> None:
    first = put_company(client, base, alice, "c-1").json()
    response = put_company(client, base, alice, "c-1", name="Clinica Group", sector="software")
    assert response.status_code == 200, response.text
    assert "Location" not in response.headers
    replaced = response.json()
    assert replaced["id"] == first["id"]
    assert (replaced["name"], replaced["sector"]) == ("Clinica Group", "software")
    assert replaced["created_at"] == first["created_at"]
    assert replaced["updated_at"] > first["updated_at"]
    assert listed(client, base, alice, "companies") == [replaced]


def test_a_put_for_a_known_external_id_replaces_the_mission(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice)
    first = put_mission(client, base, alice, "m-1", company["id"]).json()
    response = put_mission(client, base, alice, "m-1", company["id"], title="Staff Engineer")
    assert response.status_code == 200, response.text
    assert response.json()["id"] == first["id"]
    assert response.json()["title"] == "Staff Engineer"
    assert listed(client, base, alice, "missions") == [response.json()]


def test_a_put_that_changes_nothing_answers_200_and_keeps_updated_at_and_the_etag(
    client: Client, base: str, alice: Partner
) -> None:
    company = put_company(client, base, alice, "c-1")
    again = put_company(client, base, alice, "c-1")
    assert again.status_code == 200, again.text
    assert again.json() == company.json()
    assert again.headers["ETag"] == company.headers["ETag"]

    mission = put_mission(client, base, alice, "m-1", company.json()["id"], openings=3)
    same = put_mission(client, base, alice, "m-1", company.json()["id"], openings=3)
    assert same.status_code == 200, same.text
    assert same.json() == mission.json()
    assert same.json()["updated_at"] == mission.json()["updated_at"]
    assert same.headers["ETag"] == mission.headers["ETag"]


def test_optional_company_fields_left_out_of_a_put_are_reset_to_null(
    client: Client, base: str, alice: Partner
) -> None:
    full = put_company(
        client, base, alice, "c-1", website="https://clinica.example", description="We heal."
    )
    assert full.status_code == 201, full.text
    response = put(client, base, alice, "companies", "c-1", {"name": "Clinica"})
    assert response.status_code == 200, response.text
    company = response.json()
    assert company["name"] == "Clinica"
    for field in ("website", "description", "sector", "size", "location"):
        assert company[field] is None, field
    assert company["external_id"] == "c-1"


def test_optional_mission_fields_left_out_of_a_put_are_reset_to_their_defaults(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice)
    full = put_mission(
        client, base, alice, "m-1", company["id"],
        languages=["fr", "en"], contract_type="permanent", remote_policy="hybrid",
        experience_years_min=3, salary=SALARY, openings=4,
    )  # fmt: skip
    assert full.status_code == 201, full.text
    response = put_mission(client, base, alice, "m-1", company["id"])
    assert response.status_code == 200, response.text
    mission = response.json()
    assert mission["languages"] == []
    assert mission["openings"] == 1
    for field in ("contract_type", "remote_policy", "experience_years_min", "salary"):
        assert mission[field] is None, field
    assert fetch(client, base, alice, "missions", mission["id"]) == mission


def test_a_put_still_requires_the_required_fields(
    client: Client, base: str, alice: Partner
) -> None:
    put_company(client, base, alice, "c-1")
    response = put(client, base, alice, "companies", "c-1", {"sector": "software"})
    assert response.status_code == 400, response.text
    assert "name" in error_of(response)
    assert listed(client, base, alice, "companies")[0]["name"] == "Clinica Health"


@pytest.mark.parametrize(
    "external_id",
    ["a/b", "what?x=1", "a&b=c", "100%", "two words", "café-ünïcødé/日本", "/lead", "a//b", "end/"],
)
def test_any_external_id_round_trips_percent_encoded_in_the_path(
    client: Client, base: str, alice: Partner, external_id: str
) -> None:
    created = put_company(client, base, alice, external_id)
    assert created.status_code == 201, created.text
    assert created.json()["external_id"] == external_id
    replaced = put_company(client, base, alice, external_id, name="Renamed")
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["id"] == created.json()["id"]

    company = created.json()["id"]
    mission = put_mission(client, base, alice, external_id, company)
    assert mission.status_code == 201, mission.text
    assert mission.json()["external_id"] == external_id
    assert put_mission(client, base, alice, external_id, company).status_code == 200
    assert len(listed(client, base, alice, "companies")) == 1
    assert len(listed(client, base, alice, "missions")) == 1


def test_an_external_id_in_the_body_that_differs_from_the_path_is_400(
    client: Client, base: str, alice: Partner
) -> None:
    response = put_company(client, base, alice, "c-1", external_id="c-2")
    assert response.status_code == 400, response.text
    assert "external_id" in error_of(response)
    company = create_company(client, base, alice)
    response = put_mission(client, base, alice, "m-1", company["id"], external_id="m-2")
    assert response.status_code == 400, response.text
    assert "external_id" in error_of(response)
    assert listed(client, base, alice, "missions") == []
    assert [c["id"] for c in listed(client, base, alice, "companies")] == [company["id"]]


def test_an_external_id_in_the_body_equal_to_the_path_is_accepted(
    client: Client, base: str, alice: Partner
) -> None:
    response = put_company(client, base, alice, "c 1/x", external_id="c 1/x")
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("noun", ["companies", "missions"])
def test_a_blank_external_id_in_the_path_is_400(
    client: Client, base: str, alice: Partner, noun: str
) -> None:
    company = create_company(client, base, alice)
    body = company_body() if noun == "companies" else mission_body(company["id"])
    response = put(client, base, alice, noun, "   ", body)
    assert response.status_code == 400, response.text
    assert "external id" in error_of(response)
    too_long = put(client, base, alice, noun, "x" * 101, body)
    assert too_long.status_code == 400, too_long.text
    assert len(listed(client, base, alice, noun)) == (1 if noun == "companies" else 0)


def test_another_partners_put_with_the_same_external_id_creates_its_own_record(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    alices = put_company(client, base, alice, "shared").json()
    response = put_company(client, base, bob, "shared", name="Bob's client")
    assert response.status_code == 201, response.text
    assert response.json()["id"] != alices["id"]
    assert listed(client, base, alice, "companies") == [alices]
    assert [c["name"] for c in listed(client, base, bob, "companies")] == ["Bob's client"]

    alices_mission = put_mission(client, base, alice, "jd", alices["id"]).json()
    bobs = put_mission(client, base, bob, "jd", response.json()["id"], title="Bob's JD")
    assert bobs.status_code == 201, bobs.text
    assert listed(client, base, alice, "missions") == [alices_mission]


# Mission status on a PUT


def test_a_put_creating_a_mission_with_a_status_other_than_private_is_the_400_of_post(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice)
    post = client.post(
        f"{base}/missions", json=mission_body(company["id"], status="live"), headers=alice.headers
    )
    assert post.status_code == 400, post.text
    for status in ("live", "closed"):
        response = put_mission(client, base, alice, "m-1", company["id"], status=status)
        assert response.status_code == 400, response.text
        assert error_of(response) == error_of(post)
    assert listed(client, base, alice, "missions") == []
    created = put_mission(client, base, alice, "m-1", company["id"], status="private")
    assert created.status_code == 201, created.text


def test_a_put_closes_a_live_mission(
    client: Client, base: str, alice: Partner, engine: Engine
) -> None:
    company = create_company(client, base, alice)
    mission = put_mission(client, base, alice, "m-1", company["id"]).json()
    set_status(engine, mission["id"], "live")
    response = put_mission(client, base, alice, "m-1", company["id"], status="closed")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "closed"
    again = put_mission(client, base, alice, "m-1", company["id"], status="closed")
    assert again.status_code == 200, again.text
    assert again.json() == response.json()


def test_a_put_making_a_private_mission_live_is_403_and_changes_nothing(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice)
    mission = put_mission(client, base, alice, "m-1", company["id"]).json()
    response = put_mission(
        client, base, alice, "m-1", company["id"], status="live", title="Changed"
    )
    assert response.status_code == 403, response.text
    assert error_of(response) == STATUS_NOT_LIVE
    assert fetch(client, base, alice, "missions", mission["id"]) == mission


def test_a_put_reopening_a_closed_mission_is_403(
    client: Client, base: str, alice: Partner, engine: Engine
) -> None:
    company = create_company(client, base, alice)
    mission = put_mission(client, base, alice, "m-1", company["id"]).json()
    set_status(engine, mission["id"], "closed")
    response = put_mission(client, base, alice, "m-1", company["id"], status="live")
    assert response.status_code == 403, response.text
    assert error_of(response) == STATUS_NOT_LIVE
    assert fetch(client, base, alice, "missions", mission["id"])["status"] == "closed"


def test_a_put_without_status_keeps_the_status_crosspath_set(
    client: Client, base: str, alice: Partner, engine: Engine
) -> None:
    company = create_company(client, base, alice)
    mission = put_mission(client, base, alice, "m-1", company["id"]).json()
    set_status(engine, mission["id"], "live")
    response = put_mission(client, base, alice, "m-1", company["id"], title="Staff Engineer")
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["title"]) == ("live", "Staff Engineer")
    same = put_mission(client, base, alice, "m-1", company["id"], status="live", title="Staff")
    assert same.status_code == 200, same.text
    assert same.json()["status"] == "live"


def test_a_resync_by_put_keeps_a_retired_reference_value_the_record_holds(
    client: Client, base: str, alice: Partner, engine: Engine
) -> None:
    company = put_company(client, base, alice, "c-1", sector="software").json()
    mission = put_mission(client, base, alice, "m-1", company["id"], languages=["fr", "en"])
    assert mission.status_code == 201, mission.text
    values = [reference_schema.ReferenceItem(code, code.upper()) for code in ("en", "de")]
    with transaction(engine, write=True) as conn:
        references.load(conn, reference_schema.ReferenceFile("languages", "replace", values))

    unchanged = put_mission(client, base, alice, "m-1", company["id"], languages=["fr", "en"])
    assert unchanged.status_code == 200, unchanged.text
    assert unchanged.json() == mission.json()
    resync = put_mission(
        client, base, alice, "m-1", company["id"], languages=["fr", "en"], title="Staff"
    )
    assert resync.status_code == 200, resync.text
    assert (resync.json()["languages"], resync.json()["title"]) == (["fr", "en"], "Staff")

    refused = put_mission(client, base, alice, "m-2", company["id"], languages=["fr"])
    assert refused.status_code == 400, refused.text
    assert '"fr"' in error_of(refused)


# company_external_id


def test_post_patch_and_put_of_a_mission_take_company_external_id(
    client: Client, base: str, alice: Partner
) -> None:
    first = put_company(client, base, alice, "c/1").json()
    second = put_company(client, base, alice, "c 2").json()
    body = mission_body("unused") | {"company_external_id": "c/1"}
    del body["company_id"]

    posted = client.post(f"{base}/missions", json=body, headers=alice.headers)
    assert posted.status_code == 201, posted.text
    assert posted.json()["company_id"] == first["id"]
    assert "company_external_id" not in posted.json()

    patched = client.patch(
        f"{base}/missions/{posted.json()['id']}",
        json={"company_external_id": "c 2"},
        headers=alice.headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["company_id"] == second["id"]

    created = put(client, base, alice, "missions", "m-1", body)
    assert created.status_code == 201, created.text
    assert created.json()["company_id"] == first["id"]
    moved = put(client, base, alice, "missions", "m-1", body | {"company_external_id": "c 2"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["company_id"] == second["id"]
    same = put(client, base, alice, "missions", "m-1", body | {"company_external_id": "c 2"})
    assert same.json() == moved.json()


def test_company_id_and_company_external_id_together_are_400(
    client: Client, base: str, alice: Partner
) -> None:
    company = put_company(client, base, alice, "c-1").json()
    body = mission_body(company["id"], company_external_id="c-1")
    posted = client.post(f"{base}/missions", json=body, headers=alice.headers)
    assert posted.status_code == 400, posted.text
    assert "company_external_id" in error_of(posted)
    response = put(client, base, alice, "missions", "m-1", body)
    assert response.status_code == 400, response.text
    assert "company_external_id" in error_of(response)

    mission = put_mission(client, base, alice, "m-2", company["id"]).json()
    patched = client.patch(
        f"{base}/missions/{mission['id']}",
        json={"company_id": company["id"], "company_external_id": "c-1"},
        headers=alice.headers,
    )
    assert patched.status_code == 400, patched.text
    assert "company_external_id" in error_of(patched)
    assert listed(client, base, alice, "missions") == [mission]


def test_a_company_external_id_naming_no_company_of_the_partner_is_the_fixed_400(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    alices = put_company(client, base, alice, "alices-company").json()
    put_company(client, base, bob, "bobs-company")
    body = mission_body("unused") | {"company_external_id": "bobs-company"}
    del body["company_id"]

    for external_id in ("bobs-company", "nobody"):
        attempt = body | {"company_external_id": external_id}
        posted = client.post(f"{base}/missions", json=attempt, headers=alice.headers)
        assert posted.status_code == 400, posted.text
        assert error_of(posted) == COMPANY_NOT_USABLE
        response = put(client, base, alice, "missions", "m-1", attempt)
        assert response.status_code == 400, response.text
        assert error_of(response) == COMPANY_NOT_USABLE

    mission = put_mission(client, base, alice, "m-2", alices["id"]).json()
    patched = client.patch(
        f"{base}/missions/{mission['id']}",
        json={"company_external_id": "bobs-company"},
        headers=alice.headers,
    )
    assert patched.status_code == 400, patched.text
    assert error_of(patched) == COMPANY_NOT_USABLE
    assert listed(client, base, alice, "missions") == [mission]
    assert listed(client, base, bob, "missions") == []


# A real server


def test_on_a_real_server_external_ids_with_encoded_slashes_and_percents_round_trip(
    empty_database_url: str,
) -> None:
    server = start(empty_database_url)
    try:
        headers = issue_key(server, "Alice")
        base = f"{server.url}/partners/v1"
        ids = ["%2F", "/lead", "a//b", "end/", "a/b?c=d&e=%41", "50 % off", "日本/東京"]
        with httpx.Client(headers=headers, timeout=60) as http:
            for external_id in ids:
                url = f"{base}/companies/by-external-id/{quote(external_id, safe='')}"
                created = http.put(url, json=company_body())
                assert created.status_code == 201, (external_id, created.text)
                assert created.json()["external_id"] == external_id
                assert http.put(url, json=company_body()).status_code == 200, external_id
            listed = http.get(f"{base}/companies", params={"limit": 100}).json()["data"]
        assert sorted(c["external_id"] for c in listed) == sorted(ids)
    finally:
        stop(server)


def test_concurrent_puts_creating_one_external_id_make_one_record_and_all_succeed(
    empty_database_url: str,
) -> None:
    server = start(empty_database_url, "--workers", "3")
    try:
        headers = issue_key(server, "Alice")
        base = f"{server.url}/partners/v1"
        company = httpx.post(
            f"{base}/companies", json=company_body(), headers=headers, timeout=60
        ).json()
        racers = 6
        barrier = threading.Barrier(racers)

        def race(noun: str, body: dict[str, Any]) -> list[int]:
            def once(_: int) -> int:
                with httpx.Client(headers=headers, timeout=60) as http:
                    http.get(f"{server.url}/healthz")  # connected before the start line
                    barrier.wait()
                    return http.put(f"{base}/{noun}/by-external-id/race%2F1", json=body).status_code

            with ThreadPoolExecutor(max_workers=racers) as pool:
                return sorted(pool.map(once, range(racers)))

        assert race("companies", company_body(name="Raced")) == [200] * (racers - 1) + [201]
        assert race("missions", mission_body(company["id"])) == [200] * (racers - 1) + [201]

        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            companies = http.get("/companies", params={"external_id": "race/1"}).json()["data"]
            missions = http.get("/missions", params={"external_id": "race/1"}).json()["data"]
        assert [c["name"] for c in companies] == ["Raced"]
        assert len(missions) == 1
    finally:
        stop(server)

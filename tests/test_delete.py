"""`DELETE /missions/{id}`: a private mission is taken down and its external id is free again;
a live or closed one, or another partner's, stays exactly as it was."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from tests.conftest import (
    Partner,
    create_company,
    create_mission,
    error_of,
    mission_body,
    set_status,
)
from tests.contract import MISSION_NOT_FOUND, MISSION_NOT_UPDATABLE, ONLY_PRIVATE_DELETED


def listed_ids(client: TestClient[Any], base: str, partner: Partner, **params: str) -> list[str]:
    response = client.get(
        f"{base}/missions", params={"limit": "100", **params}, headers=partner.headers
    )
    assert response.status_code == 200, response.text
    return [mission["id"] for mission in response.json()["data"]]


def test_a_private_mission_is_deleted_then_404_and_gone_from_every_list(
    client: TestClient[Any], alice: Partner, base: str
) -> None:
    company = create_company(client, base, alice)
    kept = create_mission(client, base, alice, company["id"])
    doomed = create_mission(client, base, alice, company["id"], external_id="ats-1")
    deleted = client.delete(f"{base}/missions/{doomed['id']}", headers=alice.headers)
    assert deleted.status_code == 204, deleted.text
    assert deleted.content == b""
    gone = client.get(f"{base}/missions/{doomed['id']}", headers=alice.headers)
    assert gone.status_code == 404
    assert error_of(gone) == MISSION_NOT_FOUND
    assert listed_ids(client, base, alice) == [kept["id"]]
    assert listed_ids(client, base, alice, status="private") == [kept["id"]]
    assert listed_ids(client, base, alice, external_id="ats-1") == []
    assert listed_ids(client, base, alice, company_id=company["id"]) == [kept["id"]]
    patched = client.patch(
        f"{base}/missions/{doomed['id']}", json={"title": "Back?"}, headers=alice.headers
    )
    assert patched.status_code == 404
    assert error_of(patched) == MISSION_NOT_UPDATABLE


def test_deleting_twice_answers_404_the_second_time(
    client: TestClient[Any], alice: Partner, base: str
) -> None:
    mission = create_mission(client, base, alice)
    first = client.delete(f"{base}/missions/{mission['id']}", headers=alice.headers)
    assert first.status_code == 204, first.text
    second = client.delete(f"{base}/missions/{mission['id']}", headers=alice.headers)
    assert second.status_code == 404, second.text
    assert error_of(second) == MISSION_NOT_UPDATABLE


def test_a_deleted_missions_external_id_is_free_for_a_new_post(
    client: TestClient[Any], alice: Partner, base: str
) -> None:
    company = create_company(client, base, alice)
    old = create_mission(client, base, alice, company["id"], external_id="ats-7")
    refused = client.post(
        f"{base}/missions",
        json=mission_body(company["id"], external_id="ats-7"),
        headers=alice.headers,
    )
    assert refused.status_code == 409, refused.text
    assert client.delete(f"{base}/missions/{old['id']}", headers=alice.headers).status_code == 204
    new = create_mission(client, base, alice, company["id"], external_id="ats-7")
    assert new["id"] != old["id"]
    assert listed_ids(client, base, alice, external_id="ats-7") == [new["id"]]


def test_a_deleted_missions_external_id_is_free_for_a_put_which_creates_a_new_record(
    client: TestClient[Any], alice: Partner, base: str
) -> None:
    company = create_company(client, base, alice)
    path = f"{base}/missions/by-external-id/ats-8"
    body = mission_body(company["id"], external_id="ats-8")
    first = client.put(path, json=body, headers=alice.headers)
    assert first.status_code == 201, first.text
    old = first.json()
    assert client.delete(f"{base}/missions/{old['id']}", headers=alice.headers).status_code == 204
    again = client.put(path, json=body | {"title": "Data Lead"}, headers=alice.headers)
    assert again.status_code == 201, again.text  # created, not replaced
    assert again.json()["id"] != old["id"]
    assert again.json()["title"] == "Data Lead"
    assert again.headers["location"] == f"{base}/missions/{again.json()['id']}"
    assert listed_ids(client, base, alice) == [again.json()["id"]]


@pytest.mark.parametrize("status", ["live", "closed"])
def test_a_published_mission_is_not_deleted_409_and_nothing_changes(
    client: TestClient[Any], engine: Engine, alice: Partner, base: str, status: str
) -> None:
    mission = create_mission(client, base, alice, external_id="pub")
    set_status(engine, mission["id"], "live")
    if status == "closed":
        set_status(engine, mission["id"], "closed")
    before = client.get(f"{base}/missions/{mission['id']}", headers=alice.headers)
    refused = client.delete(f"{base}/missions/{mission['id']}", headers=alice.headers)
    assert refused.status_code == 409, refused.text
    assert error_of(refused) == ONLY_PRIVATE_DELETED
    after = client.get(f"{base}/missions/{mission['id']}", headers=alice.headers)
    assert after.status_code == 200
    assert after.json() == before.json()
    assert after.json()["status"] == status
    assert after.headers["etag"] == before.headers["etag"]
    assert listed_ids(client, base, alice, external_id="pub") == [mission["id"]]


def test_another_partners_mission_is_not_deleted_404_and_nothing_changes(
    client: TestClient[Any], engine: Engine, alice: Partner, bob: Partner, base: str
) -> None:
    private = create_mission(client, base, alice)
    live = create_mission(client, base, alice)
    set_status(engine, live["id"], "live")
    before = {m: client.get(f"{base}/missions/{m}", headers=alice.headers).json()
              for m in (private["id"], live["id"])}  # fmt: skip
    for mission_id in before:
        refused = client.delete(f"{base}/missions/{mission_id}", headers=bob.headers)
        assert refused.status_code == 404, refused.text
        assert error_of(refused) == MISSION_NOT_UPDATABLE
    unknown = client.delete(f"{base}/missions/msn_00000000000000000000000000", headers=bob.headers)
    assert unknown.status_code == 404
    assert error_of(unknown) == MISSION_NOT_UPDATABLE
    for mission_id, record in before.items():
        stored = client.get(f"{base}/missions/{mission_id}", headers=alice.headers)
        assert stored.status_code == 200
        assert stored.json() == record
    assert listed_ids(client, base, alice) == list(before)


def test_if_match_with_a_stale_etag_is_412_and_deletes_nothing_the_current_one_deletes(
    client: TestClient[Any], alice: Partner, base: str
) -> None:
    mission = create_mission(client, base, alice)
    path = f"{base}/missions/{mission['id']}"
    stale = client.get(path, headers=alice.headers).headers["etag"]
    patched = client.patch(path, json={"title": "Staff Engineer"}, headers=alice.headers)
    assert patched.status_code == 200, patched.text
    current = patched.headers["etag"]
    assert current != stale
    refused = client.delete(path, headers=alice.headers | {"If-Match": stale})
    assert refused.status_code == 412, refused.text
    assert error_of(refused)
    still = client.get(path, headers=alice.headers)
    assert still.status_code == 200
    assert still.json() == patched.json()
    deleted = client.delete(path, headers=alice.headers | {"If-Match": current})
    assert deleted.status_code == 204, deleted.text
    assert client.get(path, headers=alice.headers).status_code == 404

"""Conditional requests: a record's ETag, If-None-Match (304) on a GET, If-Match (412) on a
write, and the cacheable reference sets (ETag, 304, Cache-Control, gzip)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from crosspath.references import service as references
from crosspath.references.schema import ReferenceFile, ReferenceItem
from crosspath.store.transaction import transaction
from tests.conftest import (
    Partner,
    company_body,
    create_company,
    create_mission,
    error_of,
    mission_body,
    set_status,
)

Client = TestClient[Any]


def get(client: Client, base: str, partner: Partner, path: str, **headers: str) -> httpx.Response:
    return client.get(f"{base}{path}", headers=partner.headers | headers)


def etag_of(response: httpx.Response) -> str:
    tag = response.headers["ETag"]
    assert tag.startswith('"'), tag
    assert tag.endswith('"'), tag
    return tag


def current(client: Client, base: str, partner: Partner, path: str) -> tuple[Any, str]:
    response = get(client, base, partner, path)
    assert response.status_code == 200, response.text
    return response.json(), etag_of(response)


def put(
    client: Client, base: str, partner: Partner, path: str, body: Any, **headers: str
) -> httpx.Response:
    return client.put(f"{base}{path}", json=body, headers=partner.headers | headers)


def patch(
    client: Client, base: str, partner: Partner, path: str, body: Any, **headers: str
) -> httpx.Response:
    return client.patch(f"{base}{path}", json=body, headers=partner.headers | headers)


# ETags on records


def test_every_answer_of_one_record_carries_the_etag_a_get_then_gives(
    client: Client, base: str, alice: Partner
) -> None:
    posted = client.post(f"{base}/companies", json=company_body(), headers=alice.headers)
    assert posted.status_code == 201
    path = f"/companies/{posted.json()['id']}"
    assert current(client, base, alice, path)[1] == etag_of(posted)

    patched = patch(client, base, alice, path, {"name": "Renamed"})
    assert patched.status_code == 200
    assert current(client, base, alice, path)[1] == etag_of(patched)

    created = put(client, base, alice, "/companies/by-external-id/c-1", company_body())
    assert created.status_code == 201
    path = f"/companies/{created.json()['id']}"
    assert current(client, base, alice, path)[1] == etag_of(created)
    replaced = put(client, base, alice, "/companies/by-external-id/c-1", company_body(size="1-10"))
    assert replaced.status_code == 200
    assert current(client, base, alice, path)[1] == etag_of(replaced)

    mission = client.post(
        f"{base}/missions", json=mission_body(created.json()["id"]), headers=alice.headers
    )
    assert mission.status_code == 201
    assert current(client, base, alice, f"/missions/{mission.json()['id']}")[1] == etag_of(mission)
    assert etag_of(mission) != etag_of(created)


def test_the_etag_changes_when_the_record_does_and_not_on_a_no_op(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice)
    path = f"/companies/{company['id']}"
    _, first = current(client, base, alice, path)
    noop = patch(client, base, alice, path, {"name": company["name"]})
    assert etag_of(noop) == first
    changed = patch(client, base, alice, path, {"website": "https://clinica.example"})
    assert etag_of(changed) != first
    assert current(client, base, alice, path)[1] == etag_of(changed)

    mission = create_mission(client, base, alice, company["id"])
    mission_path = f"/missions/{mission['id']}"
    _, before = current(client, base, alice, mission_path)
    assert etag_of(patch(client, base, alice, mission_path, {"openings": 1})) == before
    assert etag_of(patch(client, base, alice, mission_path, {"openings": 2})) != before


def test_an_operators_status_change_changes_the_missions_etag(
    client: Client, base: str, alice: Partner, engine: Engine
) -> None:
    mission = create_mission(client, base, alice)
    path = f"/missions/{mission['id']}"
    _, private = current(client, base, alice, path)
    set_status(engine, mission["id"], "live")
    body, live = current(client, base, alice, path)
    assert body["status"] == "live"
    assert live != private
    assert get(client, base, alice, path, **{"If-None-Match": private}).status_code == 200


# If-None-Match


def test_if_none_match_with_the_current_etag_is_304_without_a_body(
    client: Client, base: str, alice: Partner
) -> None:
    mission = create_mission(client, base, alice)
    for path in (f"/missions/{mission['id']}", f"/companies/{mission['company_id']}"):
        _, tag = current(client, base, alice, path)
        response = get(client, base, alice, path, **{"If-None-Match": tag})
        assert response.status_code == 304, response.text
        assert response.content == b""
        assert response.headers["ETag"] == tag


def test_if_none_match_after_a_change_is_200_with_the_new_record(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice)
    path = f"/companies/{company['id']}"
    _, old = current(client, base, alice, path)
    changed = patch(client, base, alice, path, {"name": "Renamed"})
    response = get(client, base, alice, path, **{"If-None-Match": old})
    assert response.status_code == 200, response.text
    assert response.json() == changed.json()
    assert etag_of(response) == etag_of(changed)


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("*", 304),
        ('"nope", {tag}', 304),
        ('{tag}, "nope"', 304),
        ("W/{tag}", 304),
        ('"nope", W/"other"', 200),
        ('"nope"', 200),
    ],
)
def test_if_none_match_takes_star_and_lists_of_tags(
    client: Client, base: str, alice: Partner, header: str, status: int
) -> None:
    company = create_company(client, base, alice)
    path = f"/companies/{company['id']}"
    _, tag = current(client, base, alice, path)
    response = get(client, base, alice, path, **{"If-None-Match": header.format(tag=tag)})
    assert response.status_code == status, response.text
    assert etag_of(response) == tag


def test_if_none_match_never_reveals_another_partners_record(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    path = f"/companies/{company['id']}"
    response = get(client, base, bob, path, **{"If-None-Match": "*"})
    assert response.status_code == 404, response.text
    assert "ETag" not in response.headers


# If-Match


def test_a_patch_with_a_stale_if_match_is_412_and_changes_nothing(
    client: Client, base: str, alice: Partner
) -> None:
    mission = create_mission(client, base, alice)
    path = f"/missions/{mission['id']}"
    _, stale = current(client, base, alice, path)
    patch(client, base, alice, path, {"title": "Someone else's edit"})
    before, _ = current(client, base, alice, path)
    response = patch(client, base, alice, path, {"openings": 9}, **{"If-Match": stale})
    assert response.status_code == 412, response.text
    assert error_of(response)
    assert current(client, base, alice, path)[0] == before


def test_a_patch_with_the_current_if_match_is_applied(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice)
    path = f"/companies/{company['id']}"
    _, tag = current(client, base, alice, path)
    response = patch(client, base, alice, path, {"name": "Renamed"}, **{"If-Match": tag})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Renamed"
    listed = patch(
        client, base, alice, path, {"size": "1-10"}, **{"If-Match": f'"x", {etag_of(response)}'}
    )
    assert listed.status_code == 200, listed.text
    star = patch(client, base, alice, path, {"size": "11-50"}, **{"If-Match": "*"})
    assert star.status_code == 200, star.text
    assert current(client, base, alice, path)[0]["size"] == "11-50"


def test_a_put_with_a_stale_if_match_is_412_and_changes_nothing(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice)
    url = "/missions/by-external-id/m-1"
    created = put(client, base, alice, url, mission_body(company["id"]))
    stale = etag_of(created)
    put(client, base, alice, url, mission_body(company["id"], title="Changed elsewhere"))
    path = f"/missions/{created.json()['id']}"
    before, tag = current(client, base, alice, path)
    refused = put(
        client, base, alice, url, mission_body(company["id"], openings=5), **{"If-Match": stale}
    )
    assert refused.status_code == 412, refused.text
    assert error_of(refused)
    assert current(client, base, alice, path) == (before, tag)

    applied = put(
        client, base, alice, url, mission_body(company["id"], openings=5), **{"If-Match": tag}
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["openings"] == 5


def test_a_put_with_if_match_for_a_record_that_does_not_exist_is_412_and_creates_nothing(
    client: Client, base: str, alice: Partner
) -> None:
    for header in ("*", '"abc"'):
        response = put(
            client, base, alice, "/companies/by-external-id/c-1", company_body(),
            **{"If-Match": header},
        )  # fmt: skip
        assert response.status_code == 412, response.text
        assert error_of(response)
    listed = client.get(f"{base}/companies", headers=alice.headers).json()["data"]
    assert listed == []


def test_a_weak_etag_in_if_match_never_matches(client: Client, base: str, alice: Partner) -> None:
    company = create_company(client, base, alice)
    path = f"/companies/{company['id']}"
    _, tag = current(client, base, alice, path)
    response = patch(client, base, alice, path, {"name": "Renamed"}, **{"If-Match": f"W/{tag}"})
    assert response.status_code == 412, response.text
    assert current(client, base, alice, path)[0] == company


# References


@pytest.mark.parametrize("path", ["/references", "/references/sectors"])
def test_references_carry_an_etag_and_a_private_cache_control_and_answer_304(
    client: Client, base: str, alice: Partner, path: str
) -> None:
    response = get(client, base, alice, path, **{"Accept-Encoding": "identity"})
    assert response.status_code == 200, response.text
    assert "Content-Encoding" not in response.headers
    tag = etag_of(response)
    control = response.headers["Cache-Control"]
    assert control.startswith("private, max-age="), control
    assert int(control.removeprefix("private, max-age=")) > 0
    again = get(client, base, alice, path, **{"If-None-Match": tag})
    assert again.status_code == 304, again.text
    assert again.content == b""
    assert again.headers["ETag"] == tag
    assert again.headers["Cache-Control"] == control


@pytest.mark.parametrize("path", ["/references", "/references/locations"])
def test_references_are_gzipped_when_the_client_accepts_gzip(
    client: Client, base: str, alice: Partner, path: str
) -> None:
    plain = get(client, base, alice, path, **{"Accept-Encoding": "identity"})
    headers = alice.headers | {"Accept-Encoding": "gzip"}
    with client.stream("GET", f"{base}{path}", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        raw = b"".join(response.iter_raw())
    assert len(raw) < len(plain.content)
    assert json.loads(gzip.decompress(raw)) == plain.json()
    assert response.headers["ETag"] == etag_of(plain)


def test_a_reference_load_by_operators_changes_the_references_etag(
    client: Client, base: str, alice: Partner, engine: Engine
) -> None:
    _, everything = current(client, base, alice, "/references")
    _, sectors = current(client, base, alice, "/references/sectors")
    _, locations = current(client, base, alice, "/references/locations")
    with transaction(engine, write=True) as conn:
        file = ReferenceFile(
            kind="sectors", mode="extend", values=[ReferenceItem("legal", "Legal")]
        )
        references.load(conn, file)

    response = get(client, base, alice, "/references", **{"If-None-Match": everything})
    assert response.status_code == 200, response.text
    assert etag_of(response) != everything
    assert "legal" in [item["code"] for item in response.json()["sectors"]]
    changed = get(client, base, alice, "/references/sectors", **{"If-None-Match": sectors})
    assert changed.status_code == 200, changed.text
    assert etag_of(changed) != sectors
    unchanged = get(client, base, alice, "/references/locations", **{"If-None-Match": locations})
    assert unchanged.status_code == 304

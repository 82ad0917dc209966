"""What the schemathesis fuzzing (tests/test_fuzz.py) found, one named test each, on both base
paths and both engines."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from tests.conftest import Partner, create_company, create_mission, error_of, mission_body

Client = TestClient[Any]
COMPANY_NOT_FOUND = "This company does not exist or you don't have the permission to access it."
MISSION_NOT_FOUND = "This mission does not exist or you don't have the permission to access it."
MISSION_NOT_UPDATABLE = "This mission does not exist or you don't have the permission to update it."


def test_a_mission_without_languages_is_created_and_updated(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    """An empty `languages` list checked no codes with `code IN ()`, a syntax error on
    PostgreSQL: 500 instead of 201."""
    create_mission(client, base, bob, languages=["fr"])
    company_id = create_company(client, base, alice)["id"]
    body = mission_body(company_id, languages=[])
    created = client.post(f"{base}/missions", json=body, headers=alice.headers)
    assert created.status_code == 201, created.text
    assert created.json()["languages"] == []

    mission = create_mission(client, base, alice, company_id, languages=["en"])
    cleared = client.patch(
        f"{base}/missions/{mission['id']}", json={"languages": []}, headers=alice.headers
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["languages"] == []


def test_an_id_with_a_nul_byte_names_no_company(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    """A NUL in the path's id reached PostgreSQL, which refuses it outright: 500 instead of 404."""
    create_company(client, base, bob)
    create_company(client, base, alice)
    for company_id in ("%00", "cmp_%00", "a%00b"):
        read = client.get(f"{base}/companies/{company_id}", headers=alice.headers)
        assert read.status_code == 404, read.text
        assert error_of(read) == COMPANY_NOT_FOUND
        update = client.patch(
            f"{base}/companies/{company_id}", json={"name": "X"}, headers=alice.headers
        )
        assert update.status_code == 404, update.text
        assert error_of(update) == COMPANY_NOT_FOUND


def test_an_id_with_a_nul_byte_names_no_mission(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    create_mission(client, base, bob)
    create_mission(client, base, alice)
    for mission_id in ("%00", "msn_%00", "a%00b"):
        read = client.get(f"{base}/missions/{mission_id}", headers=alice.headers)
        assert read.status_code == 404, read.text
        assert error_of(read) == MISSION_NOT_FOUND
        update = client.patch(
            f"{base}/missions/{mission_id}", json={"title": "X"}, headers=alice.headers
        )
        assert update.status_code == 404, update.text
        assert error_of(update) == MISSION_NOT_UPDATABLE


def test_a_list_filter_with_a_control_character_is_a_400_naming_it(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    """`external_id` and `company_id` filters with a NUL reached PostgreSQL: 500 instead of 400."""
    create_mission(client, base, alice, external_id="a-1")
    create_mission(client, base, bob, external_id="a-1")
    cases = [
        ("companies", {"external_id": "\x00"}, "external_id"),
        ("missions", {"external_id": "a\x00b"}, "external_id"),
        ("missions", {"company_id": "cmp_\x00"}, "company_id"),
        ("missions", {"external_id": "a-1\x1b"}, "external_id"),
    ]
    for resource, params, name in cases:
        response = client.get(f"{base}/{resource}", params=params, headers=alice.headers)
        assert response.status_code == 400, response.text
        assert error_of(response) == f"{name} must not contain control characters."


def test_every_documented_error_is_the_error_object(client: Client) -> None:
    """Litestar documented its own `{"status_code", "detail", "extra"}` 400 on every operation
    with a path parameter, a body this API never sends."""
    document = client.get("/openapi.json").json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, code)
    single = document["paths"]["/partners/v1/companies/{company_id}"]["get"]["responses"]
    assert "400" not in single

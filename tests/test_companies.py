"""Companies: create, read and merge-patch, field rules, unique external ids, retired reference
values and tenant isolation, on both base paths."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, func, select

from crosspath.references import defaults as reference_defaults
from crosspath.references import service as references
from crosspath.references.schema import ReferenceFile, ReferenceItem
from crosspath.store import tables
from crosspath.store.transaction import transaction
from tests.conftest import Partner, company_body, create_company, create_mission, error_of
from tests.contract import COMPANY_NOT_FOUND

FIELDS = {
    "id", "external_id", "name", "website", "description", "sector", "size", "location",
    "created_at", "updated_at",
}  # fmt: skip
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
ID = re.compile(r"cmp_[0-9A-Za-z]{10,}")

Client = TestClient[Any]


def post(client: Client, base: str, partner: Partner, body: Any) -> Any:
    return client.post(f"{base}/companies", json=body, headers=partner.headers)


def patch(client: Client, base: str, partner: Partner, company_id: str, body: Any) -> Any:
    return client.patch(f"{base}/companies/{company_id}", json=body, headers=partner.headers)


def fetch(client: Client, base: str, partner: Partner, company_id: str) -> dict[str, Any]:
    response = client.get(f"{base}/companies/{company_id}", headers=partner.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def listed_ids(client: Client, base: str, partner: Partner, **params: str) -> list[str]:
    response = client.get(
        f"{base}/companies", params={"limit": "100", **params}, headers=partner.headers
    )
    assert response.status_code == 200, response.text
    return [company["id"] for company in response.json()["data"]]


def count_rows(engine: Engine, partner: Partner) -> int:
    with transaction(engine) as conn:
        statement = select(func.count()).where(tables.companies.c.partner_id == partner.id)
        return int(conn.scalar(statement) or 0)


def retire_sector(engine: Engine, code: str) -> None:
    """What an operator does with a `replace` file that no longer lists `code`."""
    kept = [ReferenceItem(c, label) for c, label in reference_defaults.SECTORS.items() if c != code]
    with transaction(engine, write=True) as conn:
        counts = references.load(conn, ReferenceFile(kind="sectors", mode="replace", values=kept))
    assert counts["retired"] == 1


# Create and read


def test_it_creates_a_company_with_every_field(
    client: Client, engine: Engine, base: str, alice: Partner, bob: Partner
) -> None:
    body = {
        "external_id": "acme-42",
        "name": "Acme Software",
        "website": "https://acme.example/about",
        "description": "We build tools.\n\n\tAnd we hire.",
        "sector": "software",
        "size": "51-200",
        "location": "FR",
    }
    response = post(client, base, alice, body)
    assert response.status_code == 201, response.text
    company = response.json()
    assert set(company) == FIELDS
    assert {name: company[name] for name in body} == body
    assert ID.fullmatch(company["id"])
    assert TIMESTAMP.fullmatch(company["created_at"])
    assert company["updated_at"] == company["created_at"]
    assert count_rows(engine, alice) == 1
    assert count_rows(engine, bob) == 0


def test_it_points_the_location_header_at_the_new_company(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    response = post(client, base, alice, company_body())
    company = response.json()
    location = response.headers["location"]
    assert urlsplit(location).path == f"{base}/companies/{company['id']}"
    fetched = client.get(location, headers=alice.headers)
    assert fetched.status_code == 200
    assert fetched.json() == company
    assert client.get(location, headers=bob.headers).status_code == 404


def test_it_creates_a_company_from_a_name_alone_with_every_other_field_null(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice, sector=None, size=None, location=None)
    for name in ("external_id", "website", "description", "sector", "size", "location"):
        assert company[name] is None, name
    assert company == fetch(client, base, alice, company["id"])


def test_it_gives_each_new_company_a_distinct_time_ordered_id(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    ids = [create_company(client, base, partner)["id"] for partner in (alice, bob, alice, bob)]
    assert len(set(ids)) == 4
    assert ids == sorted(ids)


def test_it_serves_the_same_company_under_both_base_paths(client: Client, alice: Partner) -> None:
    company = create_company(client, "/partners/hunteron/v1", alice)
    assert fetch(client, "/partners/v1", alice, company["id"]) == company
    response = patch(client, "/partners/v1", alice, company["id"], {"name": "Renamed"})
    assert fetch(client, "/partners/hunteron/v1", alice, company["id"]) == response.json()


def test_it_answers_404_for_an_unknown_company(client: Client, base: str, alice: Partner) -> None:
    create_company(client, base, alice)
    for company_id in ("cmp_01JZZZZZZZZZZZZZZZZZZZZZZZ", "1", "msn_01JZZZZZZZZZZZZZZZZZZZZZZZ"):
        response = client.get(f"{base}/companies/{company_id}", headers=alice.headers)
        assert response.status_code == 404
        assert error_of(response) == COMPANY_NOT_FOUND
        response = patch(client, base, alice, company_id, {"name": "X"})
        assert response.status_code == 404
        assert error_of(response) == COMPANY_NOT_FOUND


# Field rules


def test_it_stores_single_line_fields_trimmed(client: Client, base: str, alice: Partner) -> None:
    company = create_company(
        client,
        base,
        alice,
        name="  Acme \u00a0",
        external_id=" acme-1 ",
        website=" https://acme.example ",
        sector=" software ",
        size=" 11-50",
        location="fr-paris ",
    )
    assert company["name"] == "Acme"
    assert company["external_id"] == "acme-1"
    assert company["website"] == "https://acme.example"
    assert (company["sector"], company["size"], company["location"]) == (
        "software",
        "11-50",
        "fr-paris",
    )


def test_it_keeps_line_breaks_and_tabs_in_the_description(
    client: Client, base: str, alice: Partner
) -> None:
    description = "  Line one\r\n\tLine two\n"
    company = create_company(client, base, alice, description=description)
    # an HTML fragment, as a JD's: not trimmed, line breaks kept (CR LF as LF, as HTML reads it)
    assert company["description"] == "  Line one\n\tLine two\n"


@pytest.mark.parametrize("blank", ["", "   ", " \t "])
def test_it_stores_a_blank_optional_field_as_null(
    client: Client, base: str, alice: Partner, blank: str
) -> None:
    if "\t" in blank:
        fields = ("description",)  # a tab is only allowed in long texts
    else:
        fields = ("external_id", "website", "description", "sector", "size", "location")
    body = company_body(**dict.fromkeys(fields, blank))
    response = post(client, base, alice, body)
    assert response.status_code == 201, response.text
    company = response.json()
    for name in fields:
        assert company[name] is None, name
    # blank external ids are nulls, so they never collide
    assert post(client, base, alice, body).status_code == 201


def test_it_accepts_a_name_of_200_characters_after_trimming(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice, name="  " + "N" * 200 + "  ")
    assert company["name"] == "N" * 200
    assert create_company(client, base, bob, name="N")["name"] == "N"


@pytest.mark.parametrize(
    "body",
    [
        {"sector": "software"},
        {"name": None},
        {"name": ""},
        {"name": "   "},
        {"name": "N" * 201},
        {"name": 42},
        {"name": ["Acme"]},
    ],
    ids=["missing", "null", "empty", "blank", "too-long", "number", "list"],
)
def test_it_rejects_a_company_without_a_valid_name(
    client: Client, engine: Engine, base: str, alice: Partner, body: dict[str, Any]
) -> None:
    response = post(client, base, alice, {"size": "1-10"} | body)
    assert response.status_code == 400
    assert "name" in error_of(response)
    assert count_rows(engine, alice) == 0


@pytest.mark.parametrize(
    "name",
    [
        "Acme\x00Corp",
        "Acme\x01",
        "\x1bAcme",
        "Acme\x7f",
        "Acme\x85Corp",
        "Acme\x9fCorp",
        "Acme\tCorp",
        "Acme\nCorp",
        "Acme\rCorp",
    ],
    ids=["nul", "soh", "escape", "delete", "next-line", "c1", "tab", "line-feed", "return"],
)
def test_it_rejects_control_characters_in_the_name(
    client: Client, base: str, alice: Partner, bob: Partner, name: str
) -> None:
    response = post(client, base, alice, company_body(name=name))
    assert response.status_code == 400
    assert "name" in error_of(response)
    create_company(client, base, bob)
    response = patch(client, base, bob, listed_ids(client, base, bob)[0], {"name": name})
    assert response.status_code == 400
    assert "name" in error_of(response)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("external_id", "ext\x00"),
        ("website", "https://acme.example/\x00"),
        ("description", "About us\x00"),
        ("description", "About us\x0b"),
        ("description", "About\x85us"),
        ("location", "FR\x9f"),
        ("sector", "software\x00"),
    ],
)
def test_it_rejects_control_characters_in_other_fields(
    client: Client, engine: Engine, base: str, alice: Partner, field: str, value: str
) -> None:
    response = post(client, base, alice, company_body(**{field: value}))
    assert response.status_code == 400
    assert field in error_of(response)
    assert count_rows(engine, alice) == 0


@pytest.mark.parametrize(
    "website",
    [
        "http://acme.example",
        "https://acme.example/careers?team=backend#jobs",
        "HTTPS://ACME.EXAMPLE",
        "https://localhost:8443/path",
    ],
)
def test_it_accepts_http_and_https_websites(
    client: Client, base: str, alice: Partner, website: str
) -> None:
    assert create_company(client, base, alice, website=website)["website"] == website


@pytest.mark.parametrize(
    "website",
    [
        "acme.example",
        "www.acme.example",
        "ftp://acme.example",
        "javascript:alert(1)",
        "mailto:jobs@acme.example",
        "https://",
        "https://acme example.com",
        "//acme.example",
        42,
    ],
)
def test_it_rejects_a_website_that_is_not_an_http_url(
    client: Client, engine: Engine, base: str, alice: Partner, website: Any
) -> None:
    response = post(client, base, alice, company_body(website=website))
    assert response.status_code == 400
    assert "website" in error_of(response)
    assert count_rows(engine, alice) == 0


def test_it_limits_the_website_to_2048_characters(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    prefix = "https://acme.example/"
    longest = prefix + "a" * (2048 - len(prefix))
    assert create_company(client, base, alice, website=longest)["website"] == longest
    response = post(client, base, bob, company_body(website=longest + "a"))
    assert response.status_code == 400
    assert "website" in error_of(response)


def test_it_limits_the_description_to_20000_characters(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    longest = "d" * 20_000
    assert create_company(client, base, alice, description=longest)["description"] == longest
    response = post(client, base, bob, company_body(description=longest + "d"))
    assert response.status_code == 400
    assert "description" in error_of(response)


def test_it_limits_the_external_id_to_100_characters(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    longest = "e" * 100
    assert create_company(client, base, alice, external_id=longest)["external_id"] == longest
    response = post(client, base, bob, company_body(external_id=longest + "e"))
    assert response.status_code == 400
    assert "external_id" in error_of(response)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sector", "software"),
        ("sector", "healthcare"),
        ("size", "1-10"),
        ("size", "51-200"),
        ("size", "10001+"),
        ("location", "FR"),
        ("location", "US"),
        ("location", "fr-paris"),
    ],
)
def test_it_accepts_reference_codes(
    client: Client, base: str, alice: Partner, field: str, value: str
) -> None:
    assert create_company(client, base, alice, **{field: value})[field] == value


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("sector", "rocketry", "sectors"),
        ("sector", "Software", "sectors"),
        ("size", "50-200", "company_sizes"),
        ("size", "51-200 employees", "company_sizes"),
        ("location", "XX", "locations"),
        ("location", "Paris", "locations"),
    ],
)
def test_it_rejects_an_unknown_reference_code_and_says_where_the_values_are_listed(
    client: Client,
    engine: Engine,
    base: str,
    alice: Partner,
    bob: Partner,
    field: str,
    value: str,
    kind: str,
) -> None:
    response = post(client, base, alice, company_body(**{field: value}))
    assert response.status_code == 400
    message = error_of(response)
    assert field in message
    assert f"/references/{kind}" in message
    assert count_rows(engine, alice) == 0
    company = create_company(client, base, bob)
    response = patch(client, base, bob, company["id"], {field: value})
    assert response.status_code == 400
    assert f"/references/{kind}" in error_of(response)
    assert fetch(client, base, bob, company["id"]) == company


@pytest.mark.parametrize(
    ("field", "value"), [("sector", 3), ("size", ["1-10"]), ("location", {"code": "FR"})]
)
def test_it_rejects_a_reference_field_that_is_not_a_string(
    client: Client, base: str, alice: Partner, field: str, value: Any
) -> None:
    response = post(client, base, alice, company_body(**{field: value}))
    assert response.status_code == 400
    assert field in error_of(response)


def test_it_names_every_wrong_field_in_one_message(
    client: Client, engine: Engine, base: str, alice: Partner
) -> None:
    body = {"website": "acme.example", "sector": "rocketry", "size": "1-10"}
    response = post(client, base, alice, body)
    assert response.status_code == 400
    message = error_of(response)
    for field in ("name", "website", "sector"):
        assert field in message, message
    assert "size" not in message
    assert "/references/sectors" in message
    assert count_rows(engine, alice) == 0


def test_it_names_every_wrong_field_of_a_patch_in_one_message(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice)
    body = {"name": None, "description": "x" * 20_001, "location": "atlantis", "nickname": "A"}
    response = patch(client, base, alice, company["id"], body)
    assert response.status_code == 400
    message = error_of(response)
    for field in ("name", "description", "location", "nickname"):
        assert field in message, message
    assert fetch(client, base, alice, company["id"]) == company


def test_it_rejects_an_unknown_field_by_name(
    client: Client, engine: Engine, base: str, alice: Partner, bob: Partner
) -> None:
    response = post(client, base, alice, company_body(headcount=120))
    assert response.status_code == 400
    assert "headcount" in error_of(response)
    assert count_rows(engine, alice) == 0
    company = create_company(client, base, bob)
    response = patch(client, base, bob, company["id"], {"industry": "software"})
    assert response.status_code == 400
    assert "industry" in error_of(response)


@pytest.mark.parametrize("field", ["id", "created_at", "updated_at"])
def test_it_rejects_read_only_fields_on_create(
    client: Client, engine: Engine, base: str, alice: Partner, field: str
) -> None:
    value = "cmp_01JZZZZZZZZZZZZZZZZZZZZZZZ" if field == "id" else "2026-01-01T00:00:00.000000Z"
    response = post(client, base, alice, company_body(**{field: value}))
    assert response.status_code == 400
    assert re.search(rf"\b{field}\b", error_of(response))
    assert count_rows(engine, alice) == 0


@pytest.mark.parametrize("field", ["id", "created_at", "updated_at"])
def test_it_rejects_read_only_fields_on_patch_even_with_their_current_value(
    client: Client, base: str, alice: Partner, field: str
) -> None:
    company = create_company(client, base, alice)
    response = patch(client, base, alice, company["id"], {"name": "New", field: company[field]})
    assert response.status_code == 400
    assert re.search(rf"\b{field}\b", error_of(response))
    assert fetch(client, base, alice, company["id"]) == company


# PATCH semantics


def test_it_keeps_the_fields_a_patch_leaves_out(client: Client, base: str, alice: Partner) -> None:
    company = create_company(
        client, base, alice, external_id="a-1", website="https://a.example", description="Hi"
    )
    response = patch(client, base, alice, company["id"], {"size": "201-500"})
    assert response.status_code == 200
    updated = response.json()
    assert updated == company | {"size": "201-500", "updated_at": updated["updated_at"]}
    assert fetch(client, base, alice, company["id"]) == updated


def test_it_sets_every_field_a_patch_sends(client: Client, base: str, alice: Partner) -> None:
    company = create_company(client, base, alice)
    changes = {
        "external_id": "new-id",
        "name": "  New Name ",
        "website": "http://new.example",
        "description": "New description",
        "sector": "software",
        "size": "1-10",
        "location": "DE",
    }
    response = patch(client, base, alice, company["id"], changes)
    assert response.status_code == 200
    updated = response.json()
    assert updated == company | changes | {"name": "New Name", "updated_at": updated["updated_at"]}


def test_it_clears_nullable_fields_patched_with_null(
    client: Client, base: str, alice: Partner
) -> None:
    nullable = ("external_id", "website", "description", "sector", "size", "location")
    company = create_company(
        client, base, alice, external_id="a-1", website="https://a.example", description="Hi"
    )
    response = patch(client, base, alice, company["id"], dict.fromkeys(nullable))
    assert response.status_code == 200
    updated = response.json()
    assert all(updated[name] is None for name in nullable)
    assert updated["name"] == company["name"]
    assert fetch(client, base, alice, company["id"]) == updated


def test_it_clears_a_field_patched_with_a_blank_string(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice, website="https://a.example")
    response = patch(client, base, alice, company["id"], {"website": "  ", "sector": ""})
    assert response.status_code == 200
    assert (response.json()["website"], response.json()["sector"]) == (None, None)


@pytest.mark.parametrize("name", [None, "", "   "])
def test_it_rejects_a_patch_that_clears_the_name(
    client: Client, base: str, alice: Partner, name: str | None
) -> None:
    company = create_company(client, base, alice)
    response = patch(client, base, alice, company["id"], {"name": name})
    assert response.status_code == 400
    assert "name" in error_of(response)
    assert fetch(client, base, alice, company["id"]) == company


def test_it_treats_an_empty_patch_as_a_no_op(client: Client, base: str, alice: Partner) -> None:
    company = create_company(client, base, alice)
    response = patch(client, base, alice, company["id"], {})
    assert response.status_code == 200
    assert response.json() == company
    assert fetch(client, base, alice, company["id"]) == company


def test_it_leaves_updated_at_alone_when_a_patch_resends_the_current_values(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice, external_id="a-1", website="https://a.example")
    writable = {name: company[name] for name in FIELDS - {"id", "created_at", "updated_at"}}
    response = patch(client, base, alice, company["id"], writable)
    assert response.status_code == 200
    assert response.json() == company


def test_it_bumps_updated_at_on_a_real_change(client: Client, base: str, alice: Partner) -> None:
    company = create_company(client, base, alice)
    response = patch(client, base, alice, company["id"], {"name": "Renamed"})
    assert response.status_code == 200
    updated = response.json()
    assert TIMESTAMP.fullmatch(updated["updated_at"])
    assert updated["updated_at"] > company["updated_at"]
    assert updated["created_at"] == company["created_at"]
    second = patch(client, base, alice, company["id"], {"website": None, "sector": "software"})
    assert second.json()["updated_at"] > updated["updated_at"]


def test_it_accepts_a_merge_patch_content_type(client: Client, base: str, alice: Partner) -> None:
    company = create_company(client, base, alice)
    response = client.patch(
        f"{base}/companies/{company['id']}",
        content=b'{"description": null, "size": "1-10"}',
        headers=alice.headers | {"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["size"] == "1-10"


def test_a_patch_that_fails_validation_changes_nothing(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice, website="https://a.example")
    body = {"name": "Would be renamed", "sector": "software", "website": "not a url"}
    response = patch(client, base, alice, company["id"], body)
    assert response.status_code == 400
    assert "website" in error_of(response)
    assert fetch(client, base, alice, company["id"]) == company


# External ids


def test_it_refuses_a_duplicate_external_id_on_create_naming_the_holder(
    client: Client, engine: Engine, base: str, alice: Partner
) -> None:
    holder = create_company(client, base, alice, external_id="acme-7")
    response = post(client, base, alice, company_body(name="Other", external_id=" acme-7 "))
    assert response.status_code == 409
    message = error_of(response)
    assert holder["id"] in message
    assert "external_id" in message
    assert count_rows(engine, alice) == 1
    assert listed_ids(client, base, alice) == [holder["id"]]


def test_it_refuses_a_duplicate_external_id_on_patch_and_changes_nothing(
    client: Client, base: str, alice: Partner
) -> None:
    holder = create_company(client, base, alice, external_id="acme-7")
    other = create_company(client, base, alice, name="Other", external_id="other-1")
    response = patch(client, base, alice, other["id"], {"name": "Renamed", "external_id": "acme-7"})
    assert response.status_code == 409
    assert holder["id"] in error_of(response)
    assert fetch(client, base, alice, other["id"]) == other
    assert fetch(client, base, alice, holder["id"]) == holder


def test_it_lets_a_company_keep_its_own_external_id_on_patch(
    client: Client, base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice, external_id="acme-7")
    response = patch(client, base, alice, company["id"], {"external_id": "acme-7", "name": "New"})
    assert response.status_code == 200
    assert response.json()["external_id"] == "acme-7"


def test_it_frees_an_external_id_once_its_holder_clears_it(
    client: Client, base: str, alice: Partner
) -> None:
    first = create_company(client, base, alice, external_id="acme-7")
    assert patch(client, base, alice, first["id"], {"external_id": None}).status_code == 200
    second = create_company(client, base, alice, external_id="acme-7")
    assert second["external_id"] == "acme-7"


def test_it_allows_many_companies_without_an_external_id(
    client: Client, engine: Engine, base: str, alice: Partner
) -> None:
    for _ in range(3):
        create_company(client, base, alice)
        create_company(client, base, alice, external_id=None)
    assert count_rows(engine, alice) == 6


def test_two_partners_may_use_the_same_external_id(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mine = create_company(client, base, alice, external_id="shared-1")
    theirs = create_company(client, base, bob, external_id="shared-1")
    assert mine["id"] != theirs["id"]
    other = create_company(client, base, bob, external_id="other")
    response = patch(client, base, bob, other["id"], {"external_id": "shared-1"})
    assert response.status_code == 409
    message = error_of(response)
    assert theirs["id"] in message
    assert mine["id"] not in message


# Retired reference values


def test_a_company_holding_a_retired_sector_can_be_resent_with_it(
    client: Client, engine: Engine, base: str, alice: Partner, bob: Partner
) -> None:
    holder = create_company(client, base, alice, sector="software")
    bobs = create_company(client, base, bob, sector="software")
    retire_sector(engine, "software")
    assert fetch(client, base, alice, holder["id"])["sector"] == "software"
    for partner, company in ((alice, holder), (bob, bobs)):
        body = {name: company[name] for name in FIELDS - {"id", "created_at", "updated_at"}}
        response = patch(client, base, partner, company["id"], body)
        assert response.status_code == 200, response.text
        assert response.json() == company
    response = patch(client, base, alice, holder["id"], {"name": "Renamed", "sector": "software"})
    assert response.status_code == 200, response.text
    assert response.json()["sector"] == "software"
    response = patch(client, base, alice, holder["id"], {"description": "Other edits"})
    assert response.status_code == 200, response.text
    assert response.json()["sector"] == "software"


def test_it_refuses_a_retired_sector_on_create_and_on_a_change(
    client: Client, engine: Engine, base: str, alice: Partner, bob: Partner
) -> None:
    create_company(client, base, alice, sector="software")
    other = create_company(client, base, alice, sector="healthcare")
    bobs = create_company(client, base, bob, sector="healthcare")
    retire_sector(engine, "software")

    response = post(client, base, alice, company_body(sector="software"))
    assert response.status_code == 400
    assert "sector" in error_of(response)
    assert "/references/sectors" in error_of(response)
    assert count_rows(engine, alice) == 2

    for partner, company in ((alice, other), (bob, bobs)):
        response = patch(client, base, partner, company["id"], {"sector": "software"})
        assert response.status_code == 400
        assert "/references/sectors" in error_of(response)
        assert fetch(client, base, partner, company["id"]) == company


def test_a_company_that_leaves_a_retired_sector_cannot_return_to_it(
    client: Client, engine: Engine, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice, sector="software")
    create_company(client, base, bob, sector="software")
    retire_sector(engine, "software")
    assert patch(client, base, alice, company["id"], {"sector": "energy"}).status_code == 200
    response = patch(client, base, alice, company["id"], {"sector": "software"})
    assert response.status_code == 400
    assert "sector" in error_of(response)
    assert fetch(client, base, alice, company["id"])["sector"] == "energy"


# Tenant isolation


def test_another_partner_cannot_read_a_company(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice, external_id="secret-1")
    response = client.get(f"{base}/companies/{company['id']}", headers=bob.headers)
    assert response.status_code == 404
    assert error_of(response) == COMPANY_NOT_FOUND


@pytest.mark.parametrize(
    "body",
    [{"name": "Hijacked"}, {}, {"name": None}, {"nickname": "x"}, {"sector": "nowhere"}],
    ids=["valid", "empty", "invalid-null", "unknown-field", "unknown-code"],
)
def test_another_partner_cannot_patch_a_company_and_it_stays_unchanged(
    client: Client, base: str, alice: Partner, bob: Partner, body: dict[str, Any]
) -> None:
    company = create_company(client, base, alice)
    response = patch(client, base, bob, company["id"], body)
    assert response.status_code == 404
    assert error_of(response) == COMPANY_NOT_FOUND
    assert fetch(client, base, alice, company["id"]) == company


def test_a_malformed_body_is_refused_before_ownership_is_checked(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    response = client.patch(
        f"{base}/companies/{company['id']}",
        content=b'{"name": ',
        headers=bob.headers | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    error_of(response)
    assert fetch(client, base, alice, company["id"]) == company


def test_a_partner_list_never_contains_another_partners_companies(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    alices = [create_company(client, base, alice, external_id=f"x-{n}")["id"] for n in range(3)]
    bobs = [create_company(client, base, bob, external_id="x-0")["id"]]
    assert listed_ids(client, base, alice) == alices
    assert listed_ids(client, base, bob) == bobs
    assert listed_ids(client, base, bob, external_id="x-1") == []
    assert listed_ids(client, base, bob, external_id="x-0") == bobs


def test_the_list_shows_the_same_body_as_a_read(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice, external_id="a-1", website="https://a.example")
    create_company(client, base, bob)
    response = client.get(f"{base}/companies", headers=alice.headers)
    assert response.json()["data"] == [company]


# Failed creates


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Acme", "sector": "rocketry"},
        {"name": "Acme", "headcount": 5},
        {"name": "Acme", "website": "acme"},
        {"name": "Acme", "id": "cmp_x"},
        {"website": "https://acme.example"},
    ],
)
def test_a_failed_create_leaves_no_row(
    client: Client, engine: Engine, base: str, alice: Partner, bob: Partner, body: dict[str, Any]
) -> None:
    create_company(client, base, bob)
    assert post(client, base, alice, body).status_code == 400
    assert count_rows(engine, alice) == 0
    assert listed_ids(client, base, alice) == []
    assert count_rows(engine, bob) == 1


UNSAFE_HTML = '<p>ok</p><script>alert(1)</script><a href="javascript:x" onclick="y">z</a>'


def assert_made_safe(description: str) -> None:
    for unsafe in ("<script", "alert", "onclick", "javascript:"):
        assert unsafe not in description, description
    assert description.startswith("<p>ok</p>")
    assert ">z</a>" in description


def test_the_description_is_made_safe_as_a_jds_is_on_create_and_patch(
    client: Client, base: str, alice: Partner
) -> None:
    created = create_company(client, base, alice, description=UNSAFE_HTML)
    assert_made_safe(created["description"])
    assert fetch(client, base, alice, created["id"])["description"] == created["description"]

    other = create_company(client, base, alice, description="Plain")
    response = patch(client, base, alice, other["id"], {"description": UNSAFE_HTML})
    assert response.status_code == 200, response.text
    assert response.json()["description"] == created["description"]
    assert fetch(client, base, alice, other["id"])["description"] == created["description"]

    jd = create_mission(client, base, alice, created["id"], description=UNSAFE_HTML)
    assert jd["description"] == created["description"]

"""Missions (JDs): create, read, update, list, the status rules, and tenant isolation."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from crosspath.references import schema as reference_schema
from crosspath.references import service as references
from crosspath.store.transaction import transaction
from tests.conftest import (
    Partner,
    create_company,
    create_mission,
    error_of,
    mission_body,
    set_status,
)
from tests.contract import (
    COMPANY_NOT_USABLE,
    MISSION_NOT_FOUND,
    MISSION_NOT_UPDATABLE,
    STATUS_NOT_LIVE,
)

MISSION_FIELDS = {
    "id", "external_id", "company_id", "title", "description", "position", "location",
    "languages", "contract_type", "remote_policy", "experience_years_min", "salary",
    "openings", "status", "created_at", "updated_at",
}  # fmt: skip
REQUIRED = ("company_id", "title", "description", "position", "location")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
SALARY = {"min": 50_000, "max": 70_000, "currency": "EUR", "period": "year"}

Client = TestClient[Any]


def post(client: Client, base: str, partner: Partner, body: dict[str, Any]) -> httpx.Response:
    return client.post(f"{base}/missions", json=body, headers=partner.headers)


def patch(
    client: Client, base: str, partner: Partner, mission_id: str, body: dict[str, Any]
) -> httpx.Response:
    return client.patch(f"{base}/missions/{mission_id}", json=body, headers=partner.headers)


def fetch(client: Client, base: str, partner: Partner, mission_id: str) -> dict[str, Any]:
    response = client.get(f"{base}/missions/{mission_id}", headers=partner.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def listed(client: Client, base: str, partner: Partner, **params: str) -> list[dict[str, Any]]:
    response = client.get(f"{base}/missions", params=params, headers=partner.headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def rejected(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    return error_of(response)


def retire_languages_except(engine: Engine, *kept: str) -> None:
    """What an operator does by loading a `replace` file that no longer lists the others."""
    values = [reference_schema.ReferenceItem(code, code.upper()) for code in kept]
    with transaction(engine, write=True) as conn:
        references.load(conn, reference_schema.ReferenceFile("languages", "replace", values))


# Create


def test_it_creates_a_private_mission_with_every_field(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    body = mission_body(
        company["id"],
        external_id="JD-1",
        languages=["fr", "en"],
        contract_type="permanent",
        remote_policy="hybrid",
        experience_years_min=3,
        salary=SALARY,
        openings=2,
    )
    response = post(client, base, alice, body)
    assert response.status_code == 201, response.text
    mission = response.json()
    assert set(mission) == MISSION_FIELDS
    assert mission["id"].startswith("msn_")
    assert mission["status"] == "private"
    assert {name: mission[name] for name in body} == body
    assert TIMESTAMP.fullmatch(mission["created_at"])
    assert mission["updated_at"] == mission["created_at"]
    assert response.headers["location"].endswith(f"{base}/missions/{mission['id']}")
    assert fetch(client, base, alice, mission["id"]) == mission
    assert listed(client, base, bob) == []


def test_it_defaults_languages_to_empty_and_openings_to_one(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    assert mission["languages"] == []
    assert mission["openings"] == 1
    for name in ("external_id", "contract_type", "remote_policy", "salary"):
        assert mission[name] is None
    assert mission["experience_years_min"] is None
    assert listed(client, base, bob) == []


def test_it_stores_single_line_fields_trimmed_and_blank_optional_text_as_null(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice, title="  Data Engineer  ", external_id="   ")
    assert mission["title"] == "Data Engineer"
    assert mission["external_id"] is None
    assert listed(client, base, bob) == []


@pytest.mark.parametrize("field", REQUIRED)
def test_it_rejects_a_mission_missing_a_required_field(
    client: Client, base: str, alice: Partner, bob: Partner, field: str
) -> None:
    company = create_company(client, base, alice)
    body = mission_body(company["id"])
    del body[field]
    assert rejected(post(client, base, alice, body)) == f"{field} is required."
    assert listed(client, base, alice) == []
    assert listed(client, base, bob) == []


def test_it_names_every_missing_field_in_one_message(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    message = rejected(post(client, base, alice, {}))
    assert message == "; ".join(f"{field} is required" for field in REQUIRED) + "."
    assert rejected(post(client, base, bob, {})) == message


def test_it_names_every_problem_as_the_contract_shows(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    body = mission_body(company["id"], salary=SALARY | {"min": 90_000, "max": 80_000})
    del body["title"]
    message = rejected(post(client, base, alice, body))
    assert message == "title is required; salary.min must not be greater than salary.max."
    assert listed(client, base, alice) == []
    assert listed(client, base, bob) == []


def test_it_rejects_a_company_of_another_partner_with_the_fixed_message(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    bobs_company = create_company(client, base, bob)
    response = post(client, base, alice, mission_body(bobs_company["id"]))
    assert rejected(response) == COMPANY_NOT_USABLE
    assert listed(client, base, alice) == []
    assert listed(client, base, bob) == []


def test_it_rejects_an_unknown_company_with_the_fixed_message(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    response = post(client, base, alice, mission_body("cmp_01J00000000000000000000000"))
    assert rejected(response) == COMPANY_NOT_USABLE
    response = post(client, base, bob, mission_body("not-an-id"))
    assert rejected(response) == COMPANY_NOT_USABLE


def test_it_names_the_company_alongside_other_problems(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    bobs_company = create_company(client, base, bob)
    body = mission_body(bobs_company["id"], openings=0)
    message = rejected(post(client, base, alice, body))
    assert "openings" in message
    assert "company_id" in message
    assert listed(client, base, alice) == []


@pytest.mark.parametrize("status", ["private", "live", "closed"])
def test_it_refuses_a_status_on_create(
    client: Client, base: str, alice: Partner, bob: Partner, status: str
) -> None:
    company = create_company(client, base, alice)
    message = rejected(post(client, base, alice, mission_body(company["id"], status=status)))
    assert "status" in message
    assert "new missions start private until CrossPath reviews them" in message
    assert listed(client, base, alice) == []
    assert listed(client, base, bob) == []


def test_it_rejects_unknown_and_read_only_fields_by_name(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    message = rejected(post(client, base, alice, mission_body(company["id"], salary_max=3)))
    assert "salary_max" in message
    message = rejected(post(client, base, alice, mission_body(company["id"], id="msn_mine")))
    assert "id is read-only" in message
    assert listed(client, base, alice) == []
    assert listed(client, base, bob) == []


# Languages and other reference values


def test_it_accepts_language_codes_from_the_reference_set(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice, languages=["fr", "en", "de"])
    assert mission["languages"] == ["fr", "en", "de"]
    assert listed(client, base, bob) == []


def test_it_rejects_duplicate_languages(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    body = mission_body(company["id"], languages=["fr", "en", "fr"])
    message = rejected(post(client, base, alice, body))
    assert "languages" in message
    assert "duplicate" in message
    assert listed(client, base, bob) == []


def test_it_rejects_more_than_ten_languages(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    ten = ["fr", "en", "de", "es", "it", "pt", "nl", "pl", "sv", "da"]
    assert post(client, base, alice, mission_body(company["id"], languages=ten)).status_code == 201
    body = mission_body(company["id"], languages=[*ten, "fi"])
    message = rejected(post(client, base, alice, body))
    assert "languages" in message
    assert "10" in message
    assert len(listed(client, base, alice)) == 1
    assert listed(client, base, bob) == []


def test_it_rejects_an_unknown_language_and_says_where_the_codes_are(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    body = mission_body(company["id"], languages=["fr", "xx"])
    message = rejected(post(client, base, alice, body))
    assert "languages" in message
    assert '"xx"' in message
    assert "/references/languages" in message
    assert listed(client, base, alice) == []
    assert listed(client, base, bob) == []


@pytest.mark.parametrize("languages", ["fr", [1], None])
def test_it_rejects_languages_that_are_not_an_array_of_strings(
    client: Client, base: str, alice: Partner, bob: Partner, languages: Any
) -> None:
    company = create_company(client, base, alice)
    body = mission_body(company["id"], languages=languages)
    assert "languages" in rejected(post(client, base, alice, body))
    assert listed(client, base, bob) == []


@pytest.mark.parametrize(("field", "kind"), [("position", "positions"), ("location", "locations")])
def test_it_rejects_an_unknown_position_or_location(
    client: Client, base: str, alice: Partner, bob: Partner, field: str, kind: str
) -> None:
    company = create_company(client, base, alice)
    message = rejected(post(client, base, alice, mission_body(company["id"], **{field: "nope"})))
    assert field in message
    assert f"/references/{kind}" in message
    assert listed(client, base, bob) == []


def test_a_mission_holding_a_retired_language_can_be_resent_in_a_full_resync(
    client: Client, base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    company = create_company(client, base, alice)
    body = mission_body(company["id"], languages=["fr", "en"])
    mission = post(client, base, alice, body).json()
    other = create_mission(client, base, alice, company["id"], languages=["en"])
    retire_languages_except(engine, "en", "de")

    assert fetch(client, base, alice, mission["id"])["languages"] == ["fr", "en"]
    resync = patch(client, base, alice, mission["id"], body | {"title": "Staff Engineer"})
    assert resync.status_code == 200, resync.text
    assert resync.json()["languages"] == ["fr", "en"]
    assert resync.json()["title"] == "Staff Engineer"

    message = rejected(patch(client, base, alice, other["id"], {"languages": ["en", "fr"]}))
    assert "/references/languages" in message
    assert '"fr"' in message
    message = rejected(post(client, base, alice, body))
    assert message.startswith('languages "fr" is not an accepted value')
    assert "/references/languages" in message
    assert fetch(client, base, alice, other["id"]) == other
    assert listed(client, base, bob) == []


# Enumerations, numbers and the salary


CONTRACT_TYPES = ("permanent", "fixed_term", "freelance", "internship", "apprenticeship")
REMOTE_POLICIES = ("on_site", "hybrid", "remote")


def test_it_accepts_every_contract_type_and_remote_policy(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    for field, values in (("contract_type", CONTRACT_TYPES), ("remote_policy", REMOTE_POLICIES)):
        for value in values:
            mission = create_mission(client, base, alice, company["id"], **{field: value})
            assert mission[field] == value
    assert listed(client, base, bob) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contract_type", "contractor"),
        ("contract_type", 1),
        ("remote_policy", "office"),
        ("experience_years_min", -1),
        ("experience_years_min", 51),
        ("experience_years_min", "3"),
        ("experience_years_min", 2.5),
        ("experience_years_min", True),
        ("openings", 0),
        ("openings", 1001),
        ("openings", "2"),
        ("title", ""),
        ("title", "x" * 201),
        ("title", 42),
        ("description", "x" * 50_001),
    ],
)
def test_it_rejects_a_value_out_of_its_rules(
    client: Client, base: str, alice: Partner, bob: Partner, field: str, value: Any
) -> None:
    company = create_company(client, base, alice)
    message = rejected(post(client, base, alice, mission_body(company["id"], **{field: value})))
    assert message.startswith(f"{field} ")
    assert listed(client, base, alice) == []
    assert listed(client, base, bob) == []


def test_it_accepts_the_bounds_of_number_fields(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    bounds = {"experience_years_min": (0, 50), "openings": (1, 1000)}
    for field, values in bounds.items():
        for value in values:
            assert (
                create_mission(client, base, alice, company["id"], **{field: value})[field] == value
            )
    assert listed(client, base, bob) == []


def test_it_accepts_a_salary_for_every_period(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    for period in ("year", "month", "day", "hour"):
        salary = {"min": 400, "max": 400, "currency": "CHF", "period": period}
        assert create_mission(client, base, alice, company["id"], salary=salary)["salary"] == salary
    salary = {"min": 0, "max": 100_000_000, "currency": "JPY", "period": "year"}
    assert create_mission(client, base, alice, company["id"], salary=salary)["salary"] == salary
    assert listed(client, base, bob) == []


@pytest.mark.parametrize("key", ["min", "max", "currency", "period"])
def test_it_requires_every_salary_key(
    client: Client, base: str, alice: Partner, bob: Partner, key: str
) -> None:
    company = create_company(client, base, alice)
    salary = {name: value for name, value in SALARY.items() if name != key}
    message = rejected(post(client, base, alice, mission_body(company["id"], salary=salary)))
    assert message == f"salary.{key} is required."
    assert listed(client, base, bob) == []


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"currency": "XYZ"}, "salary.currency"),
        ({"currency": "euros"}, "salary.currency"),
        ({"period": "week"}, "salary.period"),
        ({"min": -1}, "salary.min"),
        ({"max": 100_000_001}, "salary.max"),
        ({"min": "50000"}, "salary.min"),
        ({"bonus": 10}, "salary.bonus"),
    ],
)
def test_it_rejects_a_bad_salary_by_its_json_path(
    client: Client,
    base: str,
    alice: Partner,
    bob: Partner,
    changes: dict[str, Any],
    path: str,
) -> None:
    company = create_company(client, base, alice)
    body = mission_body(company["id"], salary=SALARY | changes)
    assert path in rejected(post(client, base, alice, body))
    assert listed(client, base, alice) == []
    assert listed(client, base, bob) == []


def test_it_stores_the_currency_code_in_upper_case(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice, salary=SALARY | {"currency": "usd"})
    assert mission["salary"]["currency"] == "USD"
    assert listed(client, base, bob) == []


def test_it_rejects_a_salary_minimum_above_its_maximum(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    body = mission_body(company["id"], salary=SALARY | {"min": 80_001, "max": 80_000})
    message = rejected(post(client, base, alice, body))
    assert message == "salary.min must not be greater than salary.max."
    assert listed(client, base, bob) == []


def test_it_rejects_a_salary_that_is_not_an_object(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    assert "salary" in rejected(post(client, base, alice, mission_body(company["id"], salary=5)))
    assert listed(client, base, bob) == []


# Description: sanitised HTML and control characters


def test_it_removes_unsafe_markup_from_the_description(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    description = (
        "<h2>The role</h2>"
        '<p onclick="steal()">Build <strong>great</strong> <em>things</em>.<br>Really.</p>'
        "<script>alert('xss')</script>"
        "<style>p { color: red }</style>"
        "<ul><li>Python</li><li>SQL</li></ul>"
        '<a href="javascript:alert(1)">bad link</a>'
        '<a href="https://example.com/apply">Apply</a>'
        "<table><tr><td>Salary</td><td>Good</td></tr></table>"
    )
    mission = create_mission(client, base, alice, description=description)
    stored = mission["description"]
    for unsafe in ("<script", "alert", "<style", "color: red", "onclick", "steal", "javascript:"):
        assert unsafe not in stored
    for safe in (
        "<h2>The role</h2>",
        "<strong>great</strong>",
        "<em>things</em>",
        "<br>",
        "<ul><li>Python</li><li>SQL</li></ul>",
        'href="https://example.com/apply"',
        ">Apply</a>",
        "bad link",
        "<table>",
        "<td>Salary</td>",
    ):
        assert safe in stored
    assert "<p>Build" in stored
    assert fetch(client, base, alice, mission["id"])["description"] == stored
    resent = patch(client, base, alice, mission["id"], {"description": stored})
    assert resent.json()["description"] == stored
    assert listed(client, base, bob) == []


def test_it_sanitises_the_description_on_update_too(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    body = {"description": '<p>Hi<img src=x onerror="alert(1)"></p><script>bad()</script>'}
    response = patch(client, base, alice, mission["id"], body)
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "<p>Hi</p>"
    assert listed(client, base, bob) == []


def test_it_rejects_a_description_that_is_only_a_script(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice)
    body = mission_body(company["id"], description="<script>alert('xss')</script>")
    assert rejected(post(client, base, alice, body)).startswith("description ")
    assert listed(client, base, alice) == []
    assert listed(client, base, bob) == []


def test_it_keeps_plain_text_descriptions_with_tabs_and_line_breaks(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    description = "We are hiring.\n\n\tPython\r\n\tSQL"
    mission = create_mission(client, base, alice, description=description)
    assert "\n\n\tPython" in mission["description"]
    assert "\tSQL" in mission["description"]
    assert listed(client, base, bob) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "Hello\x00world"),
        ("description", "Bell\x07"),
        ("title", "Back\x00end"),
        ("title", "Two\nlines"),
        ("external_id", "JD\t1"),
    ],
)
def test_it_refuses_control_characters(
    client: Client, base: str, alice: Partner, bob: Partner, field: str, value: str
) -> None:
    company = create_company(client, base, alice)
    message = rejected(post(client, base, alice, mission_body(company["id"], **{field: value})))
    assert message.startswith(f"{field} ")
    assert "control characters" in message
    assert listed(client, base, alice) == []
    assert listed(client, base, bob) == []


# Reading one


def test_it_returns_404_for_an_unknown_mission(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    create_mission(client, base, alice)
    response = client.get(f"{base}/missions/msn_01J00000000000000000000000", headers=alice.headers)
    assert rejected(response, 404) == MISSION_NOT_FOUND
    response = client.get(f"{base}/missions/whatever", headers=bob.headers)
    assert rejected(response, 404) == MISSION_NOT_FOUND


def test_another_partners_mission_is_invisible(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice, external_id="JD-7")
    response = client.get(f"{base}/missions/{mission['id']}", headers=bob.headers)
    assert rejected(response, 404) == MISSION_NOT_FOUND
    assert listed(client, base, bob) == []
    assert listed(client, base, bob, external_id="JD-7") == []
    assert listed(client, base, bob, company_id=mission["company_id"]) == []
    assert fetch(client, base, alice, mission["id"]) == mission


def test_both_base_paths_serve_the_same_missions(
    client: Client, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, "/partners/v1", alice)
    assert fetch(client, "/partners/hunteron/v1", alice, mission["id"]) == mission
    response = patch(client, "/partners/hunteron/v1", alice, mission["id"], {"openings": 4})
    assert response.status_code == 200, response.text
    assert fetch(client, "/partners/v1", alice, mission["id"])["openings"] == 4
    assert listed(client, "/partners/hunteron/v1", bob) == []


# Updating


def test_it_updates_the_fields_sent_and_keeps_the_others(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice, languages=["fr"], salary=SALARY)
    body = {"title": "Lead Engineer", "openings": 3, "remote_policy": "remote"}
    response = patch(client, base, alice, mission["id"], body)
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated == mission | body | {"updated_at": updated["updated_at"]}
    assert updated["updated_at"] > mission["updated_at"]
    assert fetch(client, base, alice, mission["id"]) == updated
    assert listed(client, base, bob) == []


def test_it_takes_a_merge_patch_content_type(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    response = client.patch(
        f"{base}/missions/{mission['id']}",
        content=b'{"title": "Merged"}',
        headers=alice.headers | {"Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Merged"
    assert listed(client, base, bob) == []


def test_an_empty_patch_changes_nothing(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    response = patch(client, base, alice, mission["id"], {})
    assert response.status_code == 200, response.text
    assert response.json() == mission
    assert listed(client, base, bob) == []


def test_it_replaces_the_whole_salary_on_update(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice, salary=SALARY)
    message = rejected(patch(client, base, alice, mission["id"], {"salary": {"max": 90_000}}))
    assert (
        message == "salary.min is required; salary.currency is required; salary.period is required."
    )
    salary = {"min": 300, "max": 500, "currency": "GBP", "period": "day"}
    response = patch(client, base, alice, mission["id"], {"salary": salary})
    assert response.json()["salary"] == salary
    assert listed(client, base, bob) == []


def test_null_clears_salary_and_contract_type(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(
        client, base, alice, salary=SALARY, contract_type="freelance", experience_years_min=5
    )
    body = {"salary": None, "contract_type": None, "experience_years_min": None}
    response = patch(client, base, alice, mission["id"], body)
    assert response.status_code == 200, response.text
    for name in body:
        assert response.json()[name] is None
    assert fetch(client, base, alice, mission["id"]) == response.json()
    assert listed(client, base, bob) == []


def test_it_rejects_null_on_a_required_field(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice, languages=["en"])
    fields = ("title", "languages", "openings", "description", "position", "location")
    for field in (*fields, "company_id", "status"):
        message = rejected(patch(client, base, alice, mission["id"], {field: None}))
        assert message == f"{field} must not be null."
    message = rejected(patch(client, base, alice, mission["id"], {"title": None, "openings": None}))
    assert message == "title must not be null; openings must not be null."
    assert fetch(client, base, alice, mission["id"]) == mission
    assert listed(client, base, bob) == []


def test_it_rejects_read_only_fields_on_update(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    for field in ("id", "created_at", "updated_at"):
        message = rejected(patch(client, base, alice, mission["id"], {field: mission[field]}))
        assert message == f"{field} is read-only."
    assert fetch(client, base, alice, mission["id"]) == mission
    assert listed(client, base, bob) == []


def test_it_rejects_an_unknown_field_on_update(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    message = rejected(patch(client, base, alice, mission["id"], {"salary_min": 1}))
    assert message == "salary_min is not a known field."
    assert listed(client, base, bob) == []


def test_it_returns_the_fixed_404_when_updating_an_unknown_mission(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    create_mission(client, base, alice)
    response = patch(client, base, alice, "msn_01J00000000000000000000000", {"title": "New"})
    assert rejected(response, 404) == MISSION_NOT_UPDATABLE
    response = patch(client, base, bob, "nothing-here", {"openings": 0})
    assert rejected(response, 404) == MISSION_NOT_UPDATABLE


def test_it_returns_the_fixed_404_when_updating_another_partners_mission(
    client: Client, base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    mission = create_mission(client, base, alice)
    for body in ({"title": "Hijacked"}, {"status": "closed"}, {"openings": 0}, {}):
        response = patch(client, base, bob, mission["id"], body)
        assert rejected(response, 404) == MISSION_NOT_UPDATABLE
    assert fetch(client, base, alice, mission["id"]) == mission
    set_status(engine, mission["id"], "live")
    live = fetch(client, base, alice, mission["id"])
    for body in ({"status": "closed"}, {"title": "Hijacked"}):
        response = patch(client, base, bob, mission["id"], body)
        assert rejected(response, 404) == MISSION_NOT_UPDATABLE
    assert fetch(client, base, alice, mission["id"]) == live


def test_it_moves_a_mission_to_another_company_of_the_same_partner(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    other = create_company(client, base, alice, name="Other Co")
    response = patch(client, base, alice, mission["id"], {"company_id": other["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["company_id"] == other["id"]
    assert [m["id"] for m in listed(client, base, alice, company_id=other["id"])] == [mission["id"]]
    assert listed(client, base, bob) == []


def test_it_refuses_to_move_a_mission_to_another_partners_company(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    bobs_company = create_company(client, base, bob)
    response = patch(client, base, alice, mission["id"], {"company_id": bobs_company["id"]})
    assert rejected(response) == COMPANY_NOT_USABLE
    response = patch(client, base, alice, mission["id"], {"company_id": "cmp_unknown"})
    assert rejected(response) == COMPANY_NOT_USABLE
    assert fetch(client, base, alice, mission["id"]) == mission
    assert listed(client, base, bob) == []


def test_it_resends_the_current_company_unchanged(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    response = patch(client, base, alice, mission["id"], {"company_id": mission["company_id"]})
    assert response.status_code == 200, response.text
    assert response.json() == mission
    assert listed(client, base, bob) == []


# External ids


def test_it_refuses_a_duplicate_external_id_naming_the_holder(
    client: Client, base: str, alice: Partner
) -> None:
    holder = create_mission(client, base, alice, external_id="JD-42")
    company = create_company(client, base, alice)
    response = post(client, base, alice, mission_body(company["id"], external_id="JD-42"))
    message = rejected(response, 409)
    assert holder["id"] in message
    assert "JD-42" in message
    assert len(listed(client, base, alice)) == 1

    other = create_mission(client, base, alice, company["id"])
    message = rejected(patch(client, base, alice, other["id"], {"external_id": " JD-42 "}), 409)
    assert holder["id"] in message
    assert fetch(client, base, alice, other["id"]) == other


def test_external_ids_are_unique_per_partner_only(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    create_mission(client, base, alice, external_id="JD-42")
    mission = create_mission(client, base, bob, external_id="JD-42")
    assert mission["external_id"] == "JD-42"
    response = patch(
        client, base, alice, listed(client, base, alice)[0]["id"], {"external_id": "JD-42"}
    )
    assert response.status_code == 200, response.text


# Status


def test_it_refuses_to_change_the_status_of_a_private_mission(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    for status in ("live", "closed"):
        response = patch(client, base, alice, mission["id"], {"status": status})
        assert rejected(response, 403) == STATUS_NOT_LIVE
    assert fetch(client, base, alice, mission["id"]) == mission
    assert listed(client, base, bob) == []


def test_resending_the_current_status_is_a_no_op(
    client: Client, base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    mission = create_mission(client, base, alice)
    response = patch(client, base, alice, mission["id"], {"status": "private"})
    assert response.status_code == 200, response.text
    assert response.json() == mission
    for status in ("live", "closed"):
        set_status(engine, mission["id"], status)
        before = fetch(client, base, alice, mission["id"])
        response = patch(client, base, alice, mission["id"], {"status": status})
        assert response.status_code == 200, response.text
        assert response.json() == before
    assert listed(client, base, bob) == []


def test_a_partner_closes_a_live_mission(
    client: Client, base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    mission = create_mission(client, base, alice)
    set_status(engine, mission["id"], "live")
    response = patch(client, base, alice, mission["id"], {"status": "closed"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "closed"
    assert fetch(client, base, alice, mission["id"])["status"] == "closed"
    assert listed(client, base, bob) == []


def test_a_partner_cannot_reopen_a_closed_mission(
    client: Client, base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    mission = create_mission(client, base, alice)
    set_status(engine, mission["id"], "live")
    assert patch(client, base, alice, mission["id"], {"status": "closed"}).status_code == 200
    for status in ("live", "private"):
        response = patch(client, base, alice, mission["id"], {"status": status})
        assert rejected(response, 403) == STATUS_NOT_LIVE
    assert fetch(client, base, alice, mission["id"])["status"] == "closed"
    assert listed(client, base, bob) == []


def test_a_partner_cannot_make_a_live_mission_private(
    client: Client, base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    mission = create_mission(client, base, alice)
    set_status(engine, mission["id"], "live")
    response = patch(client, base, alice, mission["id"], {"status": "private"})
    assert rejected(response, 403) == STATUS_NOT_LIVE
    assert fetch(client, base, alice, mission["id"])["status"] == "live"
    assert listed(client, base, bob) == []


def test_a_forbidden_status_change_refuses_the_whole_patch(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    body = {"title": "Changed", "openings": 5, "status": "live"}
    assert rejected(patch(client, base, alice, mission["id"], body), 403) == STATUS_NOT_LIVE
    assert fetch(client, base, alice, mission["id"]) == mission
    assert listed(client, base, bob) == []


def test_field_validation_comes_before_the_status_rule(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    body = {"openings": 0, "status": "live"}
    message = rejected(patch(client, base, alice, mission["id"], body))
    assert message.startswith("openings ")
    bobs_company = create_company(client, base, bob)
    body = {"company_id": bobs_company["id"], "status": "closed"}
    assert rejected(patch(client, base, alice, mission["id"], body)) == COMPANY_NOT_USABLE
    assert fetch(client, base, alice, mission["id"]) == mission


def test_it_rejects_an_unknown_status(
    client: Client, base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    mission = create_mission(client, base, alice)
    set_status(engine, mission["id"], "live")
    for status in ("archived", "CLOSED", None):
        message = rejected(patch(client, base, alice, mission["id"], {"status": status}))
        assert message.startswith("status ")
    assert fetch(client, base, alice, mission["id"])["status"] == "live"
    assert listed(client, base, bob) == []


@pytest.mark.parametrize("status", ["private", "live", "closed"])
def test_other_fields_stay_editable_in_every_status(
    client: Client, base: str, alice: Partner, bob: Partner, engine: Engine, status: str
) -> None:
    mission = create_mission(client, base, alice)
    set_status(engine, mission["id"], status)
    body = {"title": f"Still syncing while {status}", "languages": ["en"], "salary": SALARY}
    response = patch(client, base, alice, mission["id"], body)
    assert response.status_code == 200, response.text
    assert {name: response.json()[name] for name in body} == body
    assert response.json()["status"] == status
    assert listed(client, base, bob) == []


# Lists


def test_it_filters_missions_by_company_and_status(
    client: Client, base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    first = create_company(client, base, alice, name="First")
    second = create_company(client, base, alice, name="Second")
    a = create_mission(client, base, alice, first["id"], title="A")
    b = create_mission(client, base, alice, first["id"], title="B")
    c = create_mission(client, base, alice, second["id"], title="C")
    create_mission(client, base, bob, title="Bob's")
    set_status(engine, b["id"], "live")
    set_status(engine, c["id"], "live")

    def ids(**params: str) -> list[str]:
        return [mission["id"] for mission in listed(client, base, alice, **params)]

    assert ids() == [a["id"], b["id"], c["id"]]
    assert ids(company_id=first["id"]) == [a["id"], b["id"]]
    assert ids(company_id=second["id"]) == [c["id"]]
    assert ids(status="live") == [b["id"], c["id"]]
    assert ids(status="private") == [a["id"]]
    assert ids(status="closed") == []
    assert ids(company_id=first["id"], status="live") == [b["id"]]


def test_a_company_filter_naming_another_partners_company_gives_an_empty_page(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    create_mission(client, base, alice)
    bobs = create_mission(client, base, bob)
    response = client.get(
        f"{base}/missions", params={"company_id": bobs["company_id"]}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": [], "next_cursor": None}
    response = client.get(
        f"{base}/missions", params={"company_id": "cmp_unknown"}, headers=alice.headers
    )
    assert response.json() == {"data": [], "next_cursor": None}


def test_it_rejects_an_unknown_status_filter(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    response = client.get(f"{base}/missions", params={"status": "open"}, headers=alice.headers)
    assert "status" in rejected(response)
    response = client.get(f"{base}/missions", params={"state": "live"}, headers=bob.headers)
    assert "state" in rejected(response)


def test_a_list_shows_only_the_partners_own_missions(
    client: Client, base: str, alice: Partner, bob: Partner
) -> None:
    alices = create_mission(client, base, alice)
    bobs = create_mission(client, base, bob)
    assert listed(client, base, alice) == [alices]
    assert listed(client, base, bob) == [bobs]
    assert listed(client, base, bob, status="private") == [bobs]


def test_the_description_limit_counts_the_text_as_stored_once_made_safe(
    client: Client, base: str, alice: Partner
) -> None:
    company_id = create_company(client, base, alice)["id"]
    too_long = post(client, base, alice, mission_body(company_id, description="&" * 50_000))
    assert too_long.status_code == 400, too_long.text
    assert error_of(too_long).startswith("description ")
    assert listed(client, base, alice) == []

    created = post(client, base, alice, mission_body(company_id, description="&" * 10_000))
    assert created.status_code == 201, created.text
    stored = created.json()["description"]
    assert stored == "&amp;" * 10_000  # 50,000 characters: exactly the limit
    mission_id = created.json()["id"]

    resent = patch(client, base, alice, mission_id, {"description": stored})
    assert resent.status_code == 200, resent.text
    assert resent.json()["description"] == stored
    assert fetch(client, base, alice, mission_id)["description"] == stored
    again = post(client, base, alice, mission_body(company_id, description=stored))
    assert again.status_code == 201, again.text
    assert again.json()["description"] == stored
    assert fetch(client, base, alice, again.json()["id"])["description"] == stored

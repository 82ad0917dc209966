"""Reference values: the shipped sets, GET /references, and operators' files."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, select

from crosspath.errors import FieldErrors
from crosspath.references import service as references
from crosspath.references.schema import ReferenceFile, ReferenceItem
from crosspath.store import tables
from crosspath.store.codes import _current_codes_of, current_codes
from crosspath.store.transaction import transaction
from tests.conftest import Partner, create_company, error_of
from tests.contract import AUTHENTICATE, MISSING_API_KEY

KINDS = ["sectors", "locations", "languages", "positions", "company_sizes"]


def get_all(client: TestClient[Any], base: str, partner: Partner) -> dict[str, Any]:
    response = client.get(f"{base}/references", headers=partner.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def get_kind(client: TestClient[Any], base: str, partner: Partner, kind: str) -> list[Any]:
    response = client.get(f"{base}/references/{kind}", headers=partner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["data"]
    data: list[Any] = body["data"]
    return data


def codes(client: TestClient[Any], base: str, partner: Partner, kind: str) -> list[str]:
    return [item["code"] for item in get_kind(client, base, partner, kind)]


def load(engine: Engine, kind: str, mode: str, values: list[ReferenceItem]) -> dict[str, int]:
    with transaction(engine, write=True) as conn:
        return references.load(conn, ReferenceFile(kind=kind, mode=mode, values=values))


def stored_rows(engine: Engine, kind: str) -> dict[str, Any]:
    """Every row of a kind, retired ones included."""
    table = tables.reference_values
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.kind == kind)).all()
    return {row.code: row for row in rows}


# The shipped sets


def test_it_lists_the_five_kinds_of_code_and_label_items(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    body = get_all(client, base, alice)
    assert list(body) == KINDS
    for kind, items in body.items():
        assert items, kind
        for item in items:
            allowed = {"code", "label", "country"} if kind == "locations" else {"code", "label"}
            assert {"code", "label"} <= set(item) <= allowed, item
            assert isinstance(item["code"], str)
            assert item["code"] == item["code"].strip() != ""
            assert isinstance(item["label"], str)
            assert item["label"].strip()
        assert len({item["code"] for item in items}) == len(items), kind
    assert get_all(client, base, bob) == body


def test_languages_are_iso_639_1_codes(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    languages = {item["code"]: item["label"] for item in get_kind(client, base, alice, "languages")}
    assert {"fr", "en", "de", "es", "it", "zh", "ar"} <= set(languages)
    assert languages["fr"] == "French"
    assert languages["en"] == "English"
    assert all(re.fullmatch("[a-z]{2}", code) for code in languages)
    assert "fra" not in languages
    assert codes(client, base, bob, "languages") == list(languages)


def test_locations_hold_countries_and_cities_of_at_least_100k_people(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    locations = {item["code"]: item for item in get_kind(client, base, alice, "locations")}
    assert locations["FR"] == {"code": "FR", "label": "France", "country": "FR"}
    assert {"DE", "US", "GB", "JP", "BR"} <= set(locations)
    paris = locations["fr-paris"]
    assert paris["country"] == "FR"
    assert "Paris" in paris["label"]
    assert {"fr-lyon", "fr-marseille", "de-berlin", "gb-london"} <= set(locations)
    assert locations["de-berlin"]["country"] == "DE"
    assert "fr-versailles" not in locations  # about 85,000 people
    for code, item in locations.items():
        if re.fullmatch("[A-Z]{2}", code):
            assert item["country"] == code
        else:
            assert re.fullmatch("[a-z]{2}-[a-z0-9-]+", code), code
            assert item["country"] == code[:2].upper(), item
    assert codes(client, base, bob, "locations") == list(locations)


def test_sectors_positions_and_company_sizes_are_sensible_sets(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    body = get_all(client, base, alice)
    assert 15 <= len(body["sectors"]) <= 30
    assert 18 <= len(body["positions"]) <= 35
    sizes = [item["code"] for item in body["company_sizes"]]
    assert sizes[0] == "1-10"
    assert sizes[-1] == "10001+"
    assert {"11-50", "51-200"} <= set(sizes)
    sectors = [item["code"] for item in body["sectors"]]
    assert {"healthcare", "software"} <= set(sectors)
    assert "software_engineering" in [item["code"] for item in body["positions"]]
    assert get_all(client, base, bob) == body


@pytest.mark.parametrize("kind", KINDS)
def test_one_kind_is_the_same_list_under_data(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, kind: str
) -> None:
    expected = get_all(client, base, alice)[kind]
    assert get_kind(client, base, alice, kind) == expected
    assert get_kind(client, base, bob, kind) == expected


def test_both_base_paths_serve_the_same_references(
    client: TestClient[Any], alice: Partner, bob: Partner
) -> None:
    current = get_all(client, "/partners/v1", alice)
    assert get_all(client, "/partners/hunteron/v1", bob) == current


def test_it_answers_404_for_an_unknown_kind(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    for kind in ("bogus", "SECTORS", "sector", "countries"):
        response = client.get(f"{base}/references/{kind}", headers=alice.headers)
        assert response.status_code == 404, kind
        assert error_of(response).endswith(".")
    response = client.get(f"{base}/references/bogus", headers=bob.headers)
    assert response.status_code == 404
    assert "sectors" in error_of(response)  # it points to the sets that do exist


@pytest.mark.parametrize("path", ["/references", "/references/sectors", "/references/bogus"])
def test_it_requires_an_api_key(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, path: str
) -> None:
    for headers in (
        {},
        {"Authorization": "Apikey Recruitment-" + "a" * 32},
        {"Authorization": alice.key},
        {"Authorization": f"Basic {bob.key}"},
    ):
        response = client.get(f"{base}{path}", headers=headers)
        assert response.status_code == 401, headers
        assert response.json() == {"error": MISSING_API_KEY}
        assert response.headers["WWW-Authenticate"] == AUTHENTICATE
    for partner in (alice, bob):
        assert client.get(f"{base}{path}", headers=partner.headers).status_code != 401


# Operators' files


def test_extend_adds_new_values_and_relabels_existing_ones(
    client: TestClient[Any], base: str, engine: Engine, alice: Partner, bob: Partner
) -> None:
    before = get_kind(client, base, alice, "sectors")
    counts = load(
        engine,
        "sectors",
        "extend",
        [ReferenceItem("space", "Space Industry"), ReferenceItem("software", "Software & SaaS")],
    )
    assert counts == {"added": 1, "updated": 1, "retired": 0}
    after = get_kind(client, base, alice, "sectors")
    assert [item["code"] for item in after] == [item["code"] for item in before] + ["space"]
    labels = {item["code"]: item["label"] for item in after}
    assert labels["space"] == "Space Industry"
    assert labels["software"] == "Software & SaaS"
    assert labels["healthcare"] == "Healthcare & Life Sciences"
    assert get_kind(client, base, bob, "sectors") == after
    create_company(client, base, bob, sector="space")


def test_extend_takes_a_country_on_locations(
    client: TestClient[Any], base: str, engine: Engine, alice: Partner, bob: Partner
) -> None:
    load(engine, "locations", "extend", [ReferenceItem("fr-sophia", "Sophia Antipolis", "FR")])
    locations = {item["code"]: item for item in get_kind(client, base, alice, "locations")}
    assert locations["fr-sophia"] == {
        "code": "fr-sophia",
        "label": "Sophia Antipolis",
        "country": "FR",
    }
    assert "fr-paris" in locations
    create_company(client, base, bob, location="fr-sophia")


def test_loading_the_same_file_twice_changes_nothing_the_second_time(
    client: TestClient[Any], base: str, engine: Engine, alice: Partner, bob: Partner
) -> None:
    values = [ReferenceItem("space", "Space"), ReferenceItem("software", "Software & SaaS")]
    load(engine, "sectors", "extend", values)
    listed = get_kind(client, base, alice, "sectors")
    assert load(engine, "sectors", "extend", values) == {"added": 0, "updated": 0, "retired": 0}
    assert get_kind(client, base, bob, "sectors") == listed


def test_replace_retires_the_values_it_does_not_list(
    client: TestClient[Any], base: str, engine: Engine, alice: Partner, bob: Partner
) -> None:
    company = create_company(client, base, alice, sector="legal", size="1-10")
    total = len(get_kind(client, base, alice, "sectors"))
    counts = load(
        engine,
        "sectors",
        "replace",
        [ReferenceItem("software", "Software"), ReferenceItem("biotech", "Biotechnology")],
    )
    assert counts == {"added": 1, "updated": 1, "retired": total - 1}
    expected = [
        {"code": "software", "label": "Software"},
        {"code": "biotech", "label": "Biotechnology"},
    ]
    assert get_kind(client, base, bob, "sectors") == expected
    assert get_all(client, base, alice)["sectors"] == expected
    # Other kinds are untouched.
    assert "1-10" in codes(client, base, alice, "company_sizes")
    # Retired, never deleted: the rows stay, and so do the records that hold them.
    rows = stored_rows(engine, "sectors")
    assert rows["legal"].retired_at is not None
    assert rows["healthcare"].retired_at is not None
    assert rows["software"].retired_at is None
    assert len(rows) == total + 1
    response = client.get(f"{base}/companies/{company['id']}", headers=alice.headers)
    assert response.json()["sector"] == "legal"
    # New writes must use a current value.
    response = client.post(
        f"{base}/companies",
        json={"name": "Lawyers", "sector": "legal"},
        headers=bob.headers,
    )
    assert response.status_code == 400
    assert "sector" in error_of(response)


def test_relisting_a_retired_value_brings_it_back(
    client: TestClient[Any], base: str, engine: Engine, alice: Partner, bob: Partner
) -> None:
    load(engine, "sectors", "replace", [ReferenceItem("software", "Software")])
    assert codes(client, base, alice, "sectors") == ["software"]
    counts = load(engine, "sectors", "extend", [ReferenceItem("legal", "Legal Services")])
    assert counts == {"added": 0, "updated": 1, "retired": 0}
    # It comes back at its original place, which is before software.
    assert codes(client, base, alice, "sectors") == ["legal", "software"]
    create_company(client, base, bob, sector="legal")
    counts = load(
        engine,
        "sectors",
        "replace",
        [ReferenceItem("healthcare", "Healthcare"), ReferenceItem("legal", "Legal Services")],
    )
    assert counts == {"added": 0, "updated": 1, "retired": 1}
    assert codes(client, base, bob, "sectors") == ["healthcare", "legal"]
    assert stored_rows(engine, "sectors")["software"].retired_at is not None


def test_install_defaults_leaves_loaded_sets_alone(
    client: TestClient[Any], base: str, engine: Engine, alice: Partner, bob: Partner
) -> None:
    load(engine, "sectors", "replace", [ReferenceItem("software", "Software")])
    with transaction(engine, write=True) as conn:
        assert references.install_defaults(conn) == []
    assert codes(client, base, alice, "sectors") == ["software"]
    assert "fr" in codes(client, base, bob, "languages")


INVALID_FILES = [
    ("countries", "extend", [ReferenceItem("x", "X")], "kind"),
    ("sectors", "merge", [ReferenceItem("x", "X")], "mode"),
    ("sectors", "REPLACE", [ReferenceItem("x", "X")], "mode"),
    ("sectors", "replace", [], "values"),
    ("sectors", "extend", [ReferenceItem("x", "X"), ReferenceItem("x", "Y")], "values[1]"),
    ("sectors", "extend", [ReferenceItem("x", "X"), ReferenceItem(" x ", "Y")], "values[1]"),
    ("sectors", "extend", [ReferenceItem("", "Nothing")], "values[0].code"),
    ("sectors", "extend", [ReferenceItem("x", "  ")], "values[0].label"),
    ("sectors", "extend", [ReferenceItem("a\nb", "Two lines")], "values[0].code"),
    ("sectors", "extend", [ReferenceItem("x" * 101, "Long")], "values[0].code"),
    ("sectors", "extend", [ReferenceItem("x", "L" * 201)], "values[0].label"),
]


def test_it_refuses_an_invalid_file_and_changes_nothing(
    client: TestClient[Any], base: str, engine: Engine, alice: Partner, bob: Partner
) -> None:
    before = get_all(client, base, alice)
    for kind, mode, values, named in INVALID_FILES:
        with pytest.raises(FieldErrors) as raised:
            load(engine, kind, mode, values)
        assert named in raised.value.message, (kind, mode, values)
    assert get_all(client, base, bob) == before
    assert "x" not in stored_rows(engine, "sectors")


def test_an_invalid_file_reports_every_problem(engine: Engine, alice: Partner) -> None:
    with pytest.raises(FieldErrors) as raised:
        load(engine, "colours", "merge", [ReferenceItem("red", ""), ReferenceItem("red", "Red")])
    message = raised.value.message
    for part in ("kind", "mode", "values[0].label", "values[1]"):
        assert part in message


@pytest.mark.parametrize("path", ["/references", "/references/sectors", "/references/locations"])
@pytest.mark.parametrize("query", ["foo=bar", "limit=5", "cursor=abc", "kind=sectors", "foo"])
def test_any_query_parameter_on_the_references_is_a_400_naming_it(
    client: TestClient[Any], base: str, alice: Partner, path: str, query: str
) -> None:
    """The references are not paged (each answer is the whole set), so even `limit` is
    unknown."""
    response = client.get(f"{base}{path}?{query}", headers=alice.headers)
    assert response.status_code == 400, response.text
    name = query.split("=")[0]
    assert error_of(response) == f"{name} is not a known query parameter."


def test_several_unknown_query_parameters_are_named_in_one_answer(
    client: TestClient[Any], base: str, alice: Partner
) -> None:
    response = client.get(f"{base}/references/sectors?foo=1&limit=5&foo=2", headers=alice.headers)
    assert response.status_code == 400
    message = error_of(response)
    assert message.count("foo") == 1
    assert "foo is not a known query parameter" in message
    assert "limit is not a known query parameter" in message
    assert client.get(f"{base}/references/sectors", headers=alice.headers).status_code == 200


def test_the_code_check_looks_each_code_up_in_the_index_and_reads_no_other_row(
    engine: Engine,
) -> None:
    asked = {"languages": ["en", "fr"], "locations": ["fr-paris"], "positions": ["sales"]}
    pairs = {(kind, code) for kind, codes in asked.items() for code in codes}
    shape = tuple((kind, len(codes)) for kind, codes in asked.items())
    params = {f"{kind}_{n}": code for kind, codes in asked.items() for n, code in enumerate(codes)}
    statement = _current_codes_of(shape).params(**params)
    sql = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
    with transaction(engine) as conn:
        assert current_codes(conn, pairs | {("locations", "atlantis")}) == pairs
        if engine.dialect.name == "sqlite":
            plan = [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
            searches = [step for step in plan if step.startswith(("SCAN", "SEARCH"))]
            assert searches, plan
            assert all("(kind=? AND code=?)" in step for step in searches), plan
            return
        plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}").scalar_one()
    nodes, stack = [], [plan[0]["Plan"]]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack += node.get("Plans", [])
    assert all(node.get("Rows Removed by Filter", 0) == 0 for node in nodes), plan
    scans = [node for node in nodes if "Index" in node["Node Type"]]
    assert scans, plan
    assert all(node["Actual Rows"] <= len(pairs) for node in scans), plan

"""The OpenAPI document as a product: a client generated from the served /openapi.json, with
openapi-python-client and no warning allowed, has the typed models a partner expects."""

from __future__ import annotations

import datetime
import enum
import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from litestar.testing import TestClient

from crosspath.api.app import create_app
from crosspath.settings import Settings
from crosspath.store.engine import make_engine
from tests.conftest import SECRET, Databases, Partner, create_company, create_mission

PACKAGE = "crosspath_partner_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def generated(
    databases: Databases, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    """The client package generated from the document the app serves, imported: generated once
    for the module (the document is the same whatever the database holds, and the tests only
    read the package), from an app of its own on a database of its own."""
    url = databases.create(template=template_db)
    settings = Settings(database_url=url, secret_key=SECRET, rate_limit=100_000)
    engine = make_engine(url)
    try:
        with TestClient(app=create_app(settings, engine)) as client:
            response = client.get("/openapi.json")
    finally:
        engine.dispose()
        databases.drop(url)
    assert response.status_code == 200, response.text
    tmp_path = tmp_path_factory.mktemp("generated")
    document = tmp_path / "openapi.json"
    document.write_bytes(response.content)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"post_hooks": [], "package_name_override": PACKAGE}))
    result = subprocess.run(  # the generator works offline, from the file
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / PACKAGE),
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _models(package: ModuleType) -> ModuleType:
    return importlib.import_module(f"{package.__name__}.models")


def _hints(model: type) -> dict[str, Any]:
    module = sys.modules[model.__module__]
    return typing.get_type_hints(model, vars(module) | vars(_models_of(module)))


def _models_of(module: ModuleType) -> ModuleType:
    return importlib.import_module(module.__name__.rsplit(".", 2)[0] + ".models")


def _union(hint: Any) -> set[Any]:
    return set(typing.get_args(hint)) or {hint}


def test_the_generated_mission_model_is_typed(generated: ModuleType) -> None:
    models = _models(generated)
    hints = _hints(models.Mission)
    assert hints["created_at"] is datetime.datetime
    assert hints["updated_at"] is datetime.datetime
    assert hints["status"] is models.MissionStatus
    assert issubclass(models.MissionStatus, enum.Enum)
    assert {member.value for member in models.MissionStatus} == {"private", "live", "closed"}
    assert _union(hints["salary"]) == {models.Salary, type(None)}
    assert _union(hints["contract_type"]) == {models.ContractType, type(None)}
    assert _union(hints["remote_policy"]) == {models.RemotePolicy, type(None)}
    assert _hints(models.Salary)["period"] is models.SalaryPeriod
    assert _hints(models.Salary)["min_"] is int
    assert hints["openings"] is int
    assert hints["languages"] == list[str]


def test_the_generated_client_has_one_class_per_enum(generated: ModuleType) -> None:
    models = _models(generated)
    enums = {
        name: value
        for name, value in vars(models).items()
        if inspect.isclass(value) and issubclass(value, enum.Enum)
    }
    assert set(enums) == {
        "MissionStatus",
        "ContractType",
        "RemotePolicy",
        "SalaryPeriod",
        "ReferenceKind",
        "EventType",
        "EventActor",
        "DeliveryStatus",
    }
    statuses = [cls for cls in enums.values() if {m.value for m in cls} >= {"private", "live"}]
    assert statuses == [models.MissionStatus]


def test_the_generated_client_has_the_write_and_page_models(generated: ModuleType) -> None:
    models = _models(generated)
    for name in (
        "Company",
        "CompanyCreate",
        "CompanyPatch",
        "CompanyPage",
        "Mission",
        "MissionCreate",
        "MissionPatch",
        "MissionPage",
        "Salary",
        "CompanyPut",
        "CompanyBatch",
        "CompanyBatchResult",
        "MissionPut",
        "MissionBatch",
        "MissionBatchItem",
        "MissionBatchResult",
        "BatchSummary",
        "BatchItemError",
        "ReferenceItem",
        "ReferenceSet",
        "References",
        "Error",
    ):
        assert inspect.isclass(getattr(models, name)), name
    assert "status" not in _hints(models.MissionCreate)
    assert "status" in _hints(models.MissionPatch)
    assert "name" in _hints(models.CompanyCreate)
    page = _hints(models.MissionPage)
    assert page["data"] == list[models.Mission]


def test_the_generated_models_read_what_the_service_answers(
    generated: ModuleType, client: TestClient[Any], alice: Partner
) -> None:
    models = _models(generated)
    base = "/partners/v1"
    company = create_company(client, base, alice, website="https://clinica.example")
    salary = {"min": 40000, "max": 50000, "currency": "EUR", "period": "year"}
    mission = create_mission(client, base, alice, company["id"], salary=salary)
    parsed = models.Mission.from_dict(mission)
    assert parsed.status is models.MissionStatus.PRIVATE
    assert isinstance(parsed.created_at, datetime.datetime)
    assert isinstance(parsed.salary, models.Salary)
    assert parsed.salary.period is models.SalaryPeriod.YEAR
    page = client.get(f"{base}/missions", headers=alice.headers).json()
    assert [m.id for m in models.MissionPage.from_dict(page).data] == [mission["id"]]
    assert models.Company.from_dict(company).website == "https://clinica.example"
    body = models.MissionPatch(status=models.MissionStatus.CLOSED).to_dict()
    assert body == {"status": "closed"}


def test_patch_bodies_name_one_model_for_both_media_types(client: TestClient[Any]) -> None:
    document = client.get("/openapi.json").json()
    for path, name in [
        ("/partners/v1/companies/{company_id}", "CompanyPatch"),
        ("/partners/v1/missions/{mission_id}", "MissionPatch"),
    ]:
        content = document["paths"][path]["patch"]["requestBody"]["content"]
        assert set(content) == {"application/json", "application/merge-patch+json"}
        for media in content.values():
            assert media["schema"] == {"$ref": f"#/components/schemas/{name}"}


def test_mission_create_does_not_offer_status(client: TestClient[Any]) -> None:
    document = client.get("/openapi.json").json()
    body = document["paths"]["/partners/v1/missions"]["post"]["requestBody"]
    assert body["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/MissionCreate"}}
    }
    create = document["components"]["schemas"]["MissionCreate"]
    assert "status" not in create["properties"]
    assert set(create["required"]) == {"title", "description", "position", "location"}
    assert {"company_id", "company_external_id"} <= set(create["properties"])
    assert create["not"] == {"required": ["company_id", "company_external_id"]}
    assert document["components"]["schemas"]["MissionPatch"].get("required") is None


def test_enums_are_named_once_and_referenced(client: TestClient[Any]) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["MissionStatus"]["enum"] == ["private", "live", "closed"]
    for name in ("Mission", "MissionPatch"):
        assert schemas[name]["properties"]["status"]["$ref"] == "#/components/schemas/MissionStatus"
        for field, enum_name in [
            ("contract_type", "ContractType"),
            ("remote_policy", "RemotePolicy"),
        ]:
            schema = schemas[name]["properties"][field]
            assert schema["anyOf"] == [
                {"$ref": f"#/components/schemas/{enum_name}"},
                {"type": "null"},
            ], (name, field)
    period = schemas["Salary"]["properties"]["period"]
    assert period == {"$ref": "#/components/schemas/SalaryPeriod"}
    text = json.dumps(schemas)
    assert text.count('"closed"') == 1  # the status values are written once
    for name in ("Company", "Mission"):
        for field in ("created_at", "updated_at"):
            assert schemas[name]["properties"][field]["format"] == "date-time"


def test_response_headers_are_described_and_sent(client: TestClient[Any], alice: Partner) -> None:
    document = client.get("/openapi.json").json()
    assert set(document["components"]["headers"]) == {
        "X-Request-Id",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
        "Location",
        "Retry-After",
        "ETag",
        "Idempotent-Replayed",
        "Cache-Control",
        "Content-Encoding",
    }
    for path, item in document["paths"].items():
        partner = path.startswith("/partners/")
        for method, operation in item.items():
            for code, response in operation["responses"].items():
                headers = {
                    name: ref["$ref"].rsplit("/", 1)[-1]
                    for name, ref in response["headers"].items()
                }
                assert all(name == target for name, target in headers.items())
                assert "X-Request-Id" in headers, (method, path, code)
                rate = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
                assert (rate <= set(headers)) is partner, (method, path, code)
                assert ("Location" in headers) is (code == "201"), (method, path, code)
                assert ("Retry-After" in headers) is (code in ("429", "503")), (method, path, code)
                replayable = method == "post" and code.startswith("2")
                assert ("Idempotent-Replayed" in headers) is replayable, (method, path, code)
    created = client.post("/partners/v1/companies", json={"name": "X"}, headers=alice.headers)
    assert created.status_code == 201, created.text
    for name in ("X-Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"):
        assert created.headers.get(name), name
    assert created.headers["Location"] == f"/partners/v1/companies/{created.json()['id']}"


def test_the_alias_base_path_is_described_and_serves_the_same_operations(
    client: TestClient[Any], alice: Partner
) -> None:
    document = client.get("/openapi.json").json()
    assert document["x-base-path-aliases"] == {"/partners/hunteron/v1": "/partners/v1"}
    assert "/partners/hunteron/v1" in document["info"]["description"]
    assert not [path for path in document["paths"] if path.startswith("/partners/hunteron/")]
    company = create_company(client, "/partners/hunteron/v1", alice)
    read = client.get(f"/partners/v1/companies/{company['id']}", headers=alice.headers)
    assert read.status_code == 200, read.text
    assert read.json() == company


def test_the_generated_client_has_the_sync_models_and_operations(
    generated: ModuleType, client: TestClient[Any], alice: Partner
) -> None:
    models = _models(generated)
    item = _hints(models.MissionBatchItem)
    assert item["external_id"] is str  # required on a batch item
    assert {"company_id", "company_external_id", "status"} <= set(item)
    assert _hints(models.MissionBatch)["items"] == list[models.MissionBatchItem]
    assert _hints(models.MissionPut)["status"] is not models.MissionStatus  # optional
    assert "company_external_id" in _hints(models.MissionCreate)
    assert "company_external_id" in _hints(models.MissionPatch)
    result = _hints(models.MissionBatchResult)
    assert result["summary"] is models.BatchSummary
    assert _union(typing.get_args(result["results"])[0]) == {
        models.MissionWritten,
        models.BatchItemError,
    }
    assert _hints(models.MissionWritten)["mission"] is models.Mission
    assert _hints(models.CompanyWritten)["company"] is models.Company
    missions = importlib.import_module(f"{PACKAGE}.api.missions")
    names = {info.name for info in pkgutil.iter_modules(missions.__path__)}
    put = next(name for name in names if name.endswith("by_external_id_external_id_put_mission"))
    assert any(name.endswith("_delete_mission") for name in names)
    assert any(name.endswith("missions_batch_post_missions_batch") for name in names)
    signature = inspect.signature(importlib.import_module(f"{missions.__name__}.{put}").sync)
    assert {"external_id", "body", "if_match"} <= set(signature.parameters)

    company = create_company(client, "/partners/v1", alice, external_id="c-1")
    body = {
        "items": [
            {
                "external_id": "m-1",
                "company_external_id": "c-1",
                "title": "T",
                "description": "D",
                "position": "design",
                "location": "FR",
            },
            {"external_id": "m-2", "title": "T"},
        ]
    }
    answer = client.post("/partners/v1/missions/batch", json=body, headers=alice.headers)
    assert answer.status_code == 200, answer.text
    parsed = models.MissionBatchResult.from_dict(answer.json())
    written, refused = parsed.results
    assert isinstance(written, models.MissionWritten)
    assert written.mission.company_id == company["id"]
    assert isinstance(refused, models.BatchItemError)
    assert (refused.status, parsed.summary.created, parsed.summary.failed) == (400, 1, 1)


# The GETs of more than one record (or of a feed): no ETag.
LISTS = {
    f"/partners/v1{path}"
    for path in (
        "/companies",
        "/missions",
        "/events",
        "/webhook-endpoints",
        "/webhook-endpoints/{endpoint_id}/deliveries",
    )
}


def test_conditional_and_idempotent_requests_are_described(client: TestClient[Any]) -> None:
    document = client.get("/openapi.json").json()
    base = "/partners/v1"
    for path, item in document["paths"].items():
        if not path.startswith(f"{base}/"):
            continue
        for method, operation in item.items():
            headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
            responses = operation["responses"]
            assert ("Idempotency-Key" in headers) is (method == "post"), (method, path)
            assert {"400", "409", "422"} <= set(responses) or method != "post", (method, path)
            conditional = method in ("patch", "put", "delete")
            assert ("If-Match" in headers) is conditional, (method, path)
            assert ("412" in responses) is conditional, (method, path)
            listed = path in LISTS
            one = method == "get" and not listed
            assert ("If-None-Match" in headers) is one, (method, path)
            assert ("304" in responses) is one, (method, path)
            record_post = method == "post" and "batch" not in path and "webhook" not in path
            tagged = one or method in ("patch", "put") or record_post
            for code, response in responses.items():
                if (code.startswith("2") and code != "204") or code == "304":
                    assert ("ETag" in response["headers"]) is tagged, (method, path, code)
    put = document["paths"][f"{base}/missions/by-external-id/{{external_id}}"]["put"]
    assert {"200", "201", "403", "412"} <= set(put["responses"])
    assert "404" not in put["responses"]
    assert "Location" in put["responses"]["201"]["headers"]
    assert put["parameters"][0]["in"] == "path"
    remove = document["paths"][f"{base}/missions/{{mission_id}}"]["delete"]["responses"]
    assert {"204", "404", "409", "412"} <= set(remove)
    assert remove["409"]["description"].startswith("Only a private mission can be deleted")
    for path in (f"{base}/references", f"{base}/references/{{kind}}"):
        headers = document["paths"][path]["get"]["responses"]["200"]["headers"]
        assert {"ETag", "Cache-Control", "Content-Encoding"} <= set(headers)
    batch = document["components"]["schemas"]["CompanyBatch"]["properties"]["items"]
    assert (batch["minItems"], batch["maxItems"]) == (1, 100)
    assert "external_id" in document["components"]["schemas"]["CompanyBatchItem"]["required"]
    assert "required" not in document["components"]["schemas"]["CompanyPut"] or (
        "external_id" not in document["components"]["schemas"]["CompanyPut"]["required"]
    )

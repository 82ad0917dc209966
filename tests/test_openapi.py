"""The OpenAPI document as a product: a client generated from the served /openapi.json, with
openapi-python-client and no warning allowed, has the typed models a partner expects."""

from __future__ import annotations

import datetime
import enum
import importlib
import inspect
import json
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.conftest import Partner, create_company, create_mission

PACKAGE = "crosspath_partner_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture
def generated(client: TestClient[Any], tmp_path: Path) -> Iterator[ModuleType]:
    """The client package generated from the document the app serves, imported."""
    response = client.get("/openapi.json")
    assert response.status_code == 200, response.text
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
    assert set(create["required"]) == {"company_id", "title", "description", "position", "location"}
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

"""Shared fixtures: a real SQLite database built by the migrations, the app over ASGI, and two
partners in every test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from crosspath import accounts, db, references
from crosspath.app import create_app
from crosspath.settings import Settings

BASE_PATHS = ["/partners/v1", "/partners/hunteron/v1"]
SECRET = "test-secret-" + "x" * 40


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database built by running the migrations and installing the default references."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with db.transaction(engine, write=True) as conn:
        references.install_defaults(conn)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def settings(tmp_path: Path, template_db: Path) -> Settings:
    path = tmp_path / "crosspath.db"
    shutil.copy(template_db, path)
    return Settings(database_url=f"sqlite:///{path}", secret_key=SECRET, rate_limit=100_000)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = db.make_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient[Any]]:
    with TestClient(app=create_app(settings, engine)) as client:
        yield client


@dataclass
class Partner:
    id: str
    key: str
    key_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Apikey {self.key}"}


def make_partner(engine: Engine, name: str = "Partner") -> Partner:
    with db.transaction(engine, write=True) as conn:
        partner = accounts.create_partner(conn, name)
        issued = accounts.issue_key(conn, SECRET, partner.id, "test")
    return Partner(partner.id, issued.key, issued.id)


@pytest.fixture
def alice(engine: Engine) -> Partner:
    return make_partner(engine, "Alice Recruiting")


@pytest.fixture
def bob(engine: Engine) -> Partner:
    return make_partner(engine, "Bob Headhunters")


@pytest.fixture(params=BASE_PATHS)
def base(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def company_body(**overrides: Any) -> dict[str, Any]:
    return {"name": "Clinica Health", "sector": "healthcare", "size": "51-200",
            "location": "fr-paris"} | overrides  # fmt: skip


def mission_body(company_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "company_id": company_id,
        "title": "Senior Backend Engineer",
        "description": "<p>Build the booking platform.</p>",
        "position": "software_engineering",
        "location": "fr-paris",
    } | overrides


def create_company(
    client: TestClient[Any], base: str, partner: Partner, **overrides: Any
) -> dict[str, Any]:
    response = client.post(
        f"{base}/companies", json=company_body(**overrides), headers=partner.headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def create_mission(
    client: TestClient[Any],
    base: str,
    partner: Partner,
    company_id: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    if company_id is None:
        company_id = create_company(client, base, partner)["id"]
    response = client.post(
        f"{base}/missions", json=mission_body(company_id, **overrides), headers=partner.headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def set_status(engine: Engine, mission_id: str, status: str) -> None:
    """What an operator does with `crosspath missions set-status`."""
    from crosspath import missions

    with db.transaction(engine, write=True) as conn:
        missions.set_status(conn, mission_id, status)


def error_of(response: httpx.Response) -> str:
    """The message of an error response, after checking the body has exactly one key."""
    body = response.json()
    assert list(body) == ["error"], body
    assert isinstance(body["error"], str)
    return str(body["error"])

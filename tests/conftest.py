"""Shared fixtures: a real database (SQLite, or PostgreSQL with CROSSPATH_TEST_DATABASE_URL)
built by the migrations, the app over ASGI, and two partners in every test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, create_engine, make_url
from sqlalchemy.pool import NullPool

from crosspath.accounts import service as accounts
from crosspath.api.app import create_app
from crosspath.references import service as references
from crosspath.settings import Settings
from crosspath.store.engine import make_engine
from crosspath.store.migrate import upgrade
from crosspath.store.transaction import transaction

POSTGRES_URL = os.environ.get("CROSSPATH_TEST_DATABASE_URL")
BASE_PATHS = ["/partners/v1", "/partners/hunteron/v1"]
SECRET = "test-secret-" + "x" * 40


REDIS_URL = os.environ.get("CROSSPATH_TEST_REDIS_URL")
# Tests that need a server the plain `pytest` run does not have are left out (not skipped);
# scripts/test runs every pass with them.
_NEEDS = {"postgres_only": POSTGRES_URL, "redis_only": REDIS_URL}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def missing(item: pytest.Item) -> bool:
        return any(item.get_closest_marker(name) and not url for name, url in _NEEDS.items())

    deselected = [item for item in items if missing(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not missing(item)]


class Databases:
    """Fresh databases on the engine under test: SQLite files, or PostgreSQL databases on the
    cluster named by CROSSPATH_TEST_DATABASE_URL (see scripts/with-postgres)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.admin = (
            create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
            if POSTGRES_URL
            else None
        )

    def create(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        if self.admin is None:
            path = self.folder / f"{name}.db"
            if template is not None:
                shutil.copy(make_url(template).database or "", path)
            return f"sqlite:///{path}"
        with self.admin.connect() as conn:
            copy = f" TEMPLATE {make_url(template).database}" if template else ""
            conn.exec_driver_sql(f"CREATE DATABASE {name}{copy}")
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        if self.admin is not None:
            with self.admin.connect() as conn:
                conn.exec_driver_sql(f"DROP DATABASE {make_url(url).database} WITH (FORCE)")


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    databases = Databases(tmp_path_factory.mktemp("databases"))
    yield databases
    if databases.admin is not None:
        databases.admin.dispose()


@pytest.fixture(scope="session")
def template_db(databases: Databases) -> Iterator[str]:
    """One database built by running the migrations and installing the default references;
    each test gets a copy."""
    url = databases.create()
    engine = make_engine(url)
    upgrade(engine)
    with transaction(engine, write=True) as conn:
        references.install_defaults(conn)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    yield url
    databases.drop(url)


@pytest.fixture
def empty_database_url(databases: Databases) -> Iterator[str]:
    """A database with nothing in it, not even tables."""
    url = databases.create()
    yield url
    databases.drop(url)


@pytest.fixture
def database_url(databases: Databases, template_db: str) -> Iterator[str]:
    """A database at the head migration with the default references, for this test alone."""
    url = databases.create(template=template_db)
    yield url
    databases.drop(url)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key=SECRET, rate_limit=100_000)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url)
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
    with transaction(engine, write=True) as conn:
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
    from crosspath.missions import review

    with transaction(engine, write=True) as conn:
        review.set_status(conn, mission_id, status)


def error_of(response: httpx.Response) -> str:
    """The message of an error response, after checking the body has exactly one key."""
    body = response.json()
    assert list(body) == ["error"], body
    assert isinstance(body["error"], str)
    return str(body["error"])

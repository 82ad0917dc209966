"""Secrets, faults and what responses never reveal."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from crosspath.accounts import service as accounts
from crosspath.api.app import create_app
from crosspath.api.logs import JsonLogFormatter
from crosspath.companies import service as companies
from crosspath.settings import PLACEHOLDER_SECRET, Settings, SettingsError
from crosspath.store.transaction import transaction
from tests.conftest import Partner, company_body, error_of
from tests.test_server import CROSSPATH, issue_key, start, stop


@pytest.mark.parametrize(
    "secret", [None, "", PLACEHOLDER_SECRET, "too-short-for-production"], ids=repr
)
def test_production_refuses_a_missing_placeholder_or_short_secret(secret: str | None) -> None:
    env = {"CROSSPATH_ENV": "production"} | (
        {} if secret is None else {"CROSSPATH_SECRET_KEY": secret}
    )
    with pytest.raises(SettingsError, match="CROSSPATH_SECRET_KEY"):
        Settings.from_env(env)


def test_production_starts_with_a_real_secret() -> None:
    secret = "s" * 48
    settings = Settings.from_env({"CROSSPATH_ENV": "production", "CROSSPATH_SECRET_KEY": secret})
    assert settings.is_production
    assert settings.secret_key == secret


def test_the_server_refuses_to_start_in_production_without_a_secret(database_url: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPATH_")}
    env |= {"CROSSPATH_ENV": "production", "CROSSPATH_DATABASE_URL": database_url}
    result = subprocess.run(
        [CROSSPATH, "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1
    assert "CROSSPATH_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_last_used_at_is_written_at_most_once_a_minute(
    client: TestClient[Any], alice: Partner, engine: Engine
) -> None:
    def last_used() -> str | None:
        with transaction(engine) as conn:
            return next(k for k in accounts.list_keys(conn, alice.id)).last_used_at

    assert client.get("/partners/v1/companies", headers=alice.headers).status_code == 200
    first = last_used()
    assert first is not None
    for _ in range(5):
        assert client.get("/partners/v1/companies", headers=alice.headers).status_code == 200
    assert last_used() == first


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(JsonLogFormatter().format(record))


def test_an_unexpected_failure_is_a_plain_500_and_its_detail_goes_to_the_log(
    settings: Settings,
    engine: Engine,
    alice: Partner,
    bob: Partner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("SELECT secret FROM /srv/crosspath/internal.py exploded")

    monkeypatch.setattr(companies, "create_company", broken)
    app = create_app(settings, engine)
    records = Records()
    logging.getLogger().addHandler(records)
    try:
        with TestClient(app) as client:
            headers = alice.headers | {"X-Request-Id": "fault-123"}
            response = client.post("/partners/v1/companies", json=company_body(), headers=headers)
            assert client.get("/partners/v1/companies", headers=bob.headers).status_code == 200
    finally:
        logging.getLogger().removeHandler(records)
    assert response.status_code == 500
    assert error_of(response) == "Internal server error."
    assert response.headers["X-Request-Id"] == "fault-123"
    assert "exploded" not in response.text
    logged = [line for line in records.lines if "fault-123" in line and "exploded" in line]
    assert logged, records.lines
    assert "Traceback" in logged[0]
    assert alice.key not in "\n".join(records.lines)


def test_error_responses_never_show_sql_paths_or_tracebacks(
    client: TestClient[Any], alice: Partner
) -> None:
    taken = client.post(
        "/partners/v1/companies", json=company_body(external_id="x"), headers=alice.headers
    )
    assert taken.status_code == 201
    responses = [
        client.post(
            "/partners/v1/companies", json=company_body(external_id="x"), headers=alice.headers
        ),
        client.post(
            "/partners/v1/missions",
            json={"company_id": "'; DROP TABLE missions; --"},
            headers=alice.headers,
        ),
        client.get("/partners/v1/companies?cursor=%27%20OR%201=1", headers=alice.headers),
        client.patch(
            "/partners/v1/companies/x",
            content=b"{",
            headers=alice.headers | {"Content-Type": "application/json"},
        ),
    ]
    for response in responses:
        message = error_of(response)
        for leak in (
            "SELECT",
            "INSERT",
            "sqlalchemy",
            "psycopg",
            "sqlite",
            "Traceback",
            ".py",
            "/src/",
        ):
            assert leak not in message, (leak, message)


def test_revoking_a_key_takes_effect_on_the_next_request_in_every_worker(
    empty_database_url: str,
) -> None:
    server = start(empty_database_url, "--workers", "2")
    try:
        headers = issue_key(server, "Alice")
        other = issue_key(server, "Bob")
        url = f"{server.url}/partners/v1/companies"
        assert {httpx.get(url, headers=headers).status_code for _ in range(8)} == {200}
        listed = subprocess.run(
            [CROSSPATH, "partners", "list", "--json"],
            env=server.env,
            capture_output=True,
            text=True,
            check=True,
        )
        alice_id = next(p["id"] for p in json.loads(listed.stdout) if p["name"] == "Alice")
        keys = subprocess.run(
            [CROSSPATH, "keys", "list", alice_id, "--json"],
            env=server.env,
            capture_output=True,
            text=True,
            check=True,
        )
        key_id = json.loads(keys.stdout)[0]["id"]
        subprocess.run(
            [CROSSPATH, "keys", "revoke", key_id], env=server.env, capture_output=True, check=True
        )
        assert {httpx.get(url, headers=headers).status_code for _ in range(8)} == {401}
        assert httpx.get(url, headers=other).status_code == 200
    finally:
        stop(server)

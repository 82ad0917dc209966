"""The operators' command line, run as the installed `crosspath` command against a real database.

Every call starts a Python process (about half a second each), so each test makes few of them
and checks a lot per call; partners, companies and missions that are not the subject of a test
are made in-process or over HTTP.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, select, update

from crosspath.accounts import service as accounts
from crosspath.accounts.keys import hash_key
from crosspath.api.app import create_app
from crosspath.references import service as references
from crosspath.settings import Settings
from crosspath.store.engine import make_engine
from crosspath.store.tables import idempotency_keys
from crosspath.store.transaction import transaction
from tests.conftest import SECRET, Partner, create_company, create_mission, make_partner
from tests.contract import MISSING_API_KEY


def _command() -> str:
    beside_python = Path(sys.executable).parent / "crosspath"
    found = str(beside_python) if beside_python.exists() else shutil.which("crosspath")
    assert found, "the crosspath command is not installed"
    return found


CROSSPATH = _command()
KEY = re.compile(r"^Recruitment-[A-Za-z0-9]{32}$")
KINDS = ["sectors", "locations", "languages", "positions", "company_sizes"]


@dataclass
class Cli:
    url: str

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {
            name: value for name, value in os.environ.items() if not name.startswith("CROSSPATH_")
        }
        env |= {"CROSSPATH_DATABASE_URL": self.url, "CROSSPATH_SECRET_KEY": SECRET}
        return subprocess.run(
            [CROSSPATH, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def json(self, *args: str) -> Any:
        """Run with --json: exit 0, nothing on stderr, exactly one JSON document on stdout."""
        result = self.run(*args, "--json")
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert result.stdout.endswith("\n")
        assert result.stdout.count("\n") == 1, result.stdout
        return json.loads(result.stdout)

    def human(self, *args: str) -> str:
        result = self.run(*args)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        return result.stdout

    def fails(self, *args: str) -> str:
        """Run a command that must fail: non-zero exit, one line on stderr, no traceback."""
        result = self.run(*args)
        assert result.returncode != 0, result.stdout
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].strip()
        return lines[0]

    @contextmanager
    def client(self) -> Iterator[TestClient[Any]]:
        """An app over the same database and secret, as the deployed service would be."""
        with self.engine() as engine:
            app = create_app(Settings(database_url=self.url, secret_key=SECRET), engine)
            with TestClient(app=app) as client:
                yield client

    @contextmanager
    def engine(self) -> Iterator[Engine]:
        engine = make_engine(self.url)
        try:
            yield engine
        finally:
            engine.dispose()

    def partners(self) -> tuple[Partner, Partner]:
        """Two partners made in-process, each with a key."""
        with self.engine() as engine:
            return make_partner(engine, "Alice Recruiting"), make_partner(engine, "Bob Headhunters")

    def issue_key(self, partner_id: str) -> accounts.IssuedKey:
        """Another key for a partner, issued in-process."""
        with self.engine() as engine, transaction(engine, write=True) as conn:
            return accounts.issue_key(conn, SECRET, partner_id, None)


@pytest.fixture
def cli(database_url: str) -> Cli:
    """The CLI over a migrated database with the default references (a copy of the template)."""
    return Cli(database_url)


def status_of(client: TestClient[Any], key: str) -> int:
    response = client.get("/partners/v1/companies", headers={"Authorization": f"Apikey {key}"})
    return response.status_code


def assert_refused(client: TestClient[Any], key: str) -> None:
    for base in ("/partners/v1", "/partners/hunteron/v1"):
        response = client.get(f"{base}/missions", headers={"Authorization": f"Apikey {key}"})
        assert response.status_code == 401
        assert response.json() == {"error": MISSING_API_KEY}


# Database


def test_db_upgrade_creates_the_database_and_installs_the_references(
    empty_database_url: str,
) -> None:
    cli = Cli(empty_database_url)
    first = cli.json("db", "upgrade")
    head = first["revision"]
    assert first == {"status": "created", "revision": head, "references_installed": KINDS}
    again = cli.json("db", "upgrade")
    assert again == {"status": "up to date", "revision": head, "references_installed": []}
    with cli.engine() as engine:
        with transaction(engine) as conn:
            counts = references.count_current(conn)
        assert all(counts[kind] > 0 for kind in KINDS), counts
        alice, bob = make_partner(engine, "Alice"), make_partner(engine, "Bob")
    with cli.client() as client:
        assert status_of(client, alice.key) == 200
        assert status_of(client, bob.key) == 200


def run_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command in `folder`, with no CROSSPATH_* variable set: the default database."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CROSSPATH_")}
    return subprocess.run(
        [CROSSPATH, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


def test_a_command_without_a_database_says_to_run_db_upgrade_and_creates_no_file(
    tmp_path: Path,
) -> None:
    for args in (("partners", "list"), ("partners", "list", "--json")):
        result = run_in(tmp_path, *args)
        assert result.returncode != 0, result.stdout
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert "crosspath db upgrade" in lines[0]
        assert "CROSSPATH_DATABASE_URL" in lines[0]
        for leak in ("Traceback", "sqlalchemy", "OperationalError", "no such table"):
            assert leak not in result.stderr
        assert list(tmp_path.iterdir()) == []

    first = run_in(tmp_path, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert "Created the database schema" in first.stdout
    assert "up to date" not in first.stdout
    assert (tmp_path / "crosspath.db").is_file()
    again = run_in(tmp_path, "db", "upgrade")
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    assert "Created" not in again.stdout
    listed = run_in(tmp_path, "partners", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []


# Partners and keys


def test_a_key_issued_by_the_cli_works_until_it_is_revoked(cli: Cli) -> None:
    alice = cli.json("partners", "create", "  Alice Recruiting  ")
    assert list(alice) == ["id", "name"]
    assert alice["name"] == "Alice Recruiting"
    assert alice["id"].startswith("ptn_")
    issued = cli.json("keys", "issue", alice["id"], "--label", "production")
    assert set(issued) == {"id", "key", "partner_id"}
    assert KEY.fullmatch(issued["key"])
    assert issued["partner_id"] == alice["id"]
    spare = cli.issue_key(alice["id"])  # a second key, for rotation

    _, bob = cli.partners()
    with cli.client() as client:
        assert status_of(client, issued["key"]) == 200
        assert status_of(client, spare.key) == 200
        assert status_of(client, bob.key) == 200
        companies = client.get(
            "/partners/hunteron/v1/companies", headers={"Authorization": f"Bearer {spare.key}"}
        )
        assert companies.json() == {"data": [], "next_cursor": None}

    keys = cli.json("keys", "list", alice["id"])
    output = json.dumps(keys)
    for secret in (issued["key"], spare.key, hash_key(SECRET, issued["key"]), bob.key):
        assert secret not in output
    assert [key["id"] for key in keys] == [issued["id"], spare.id]
    first = keys[0]
    assert {"prefix", "label", "created_at", "last_used_at", "revoked_at"} <= set(first)
    assert "key" not in first
    assert "key_hash" not in first
    assert first["label"] == "production"
    assert keys[1]["label"] is None
    assert issued["key"].startswith(first["prefix"])
    assert len(first["prefix"]) < 20
    assert first["created_at"].endswith("Z")
    assert first["last_used_at"] is not None  # it was used above
    assert first["revoked_at"] is None

    revoked = cli.json("keys", "revoke", issued["id"])
    assert revoked["id"] == issued["id"]
    assert revoked["revoked_at"] is not None
    assert issued["key"] not in json.dumps(revoked)
    with cli.client() as client:
        assert_refused(client, issued["key"])
        assert status_of(client, spare.key) == 200
        assert status_of(client, bob.key) == 200


def test_disabling_a_partner_refuses_every_one_of_its_keys(cli: Cli) -> None:
    alice, bob = cli.partners()
    second = cli.issue_key(alice.id).key
    with cli.client() as client:
        assert status_of(client, alice.key) == 200
        assert status_of(client, second) == 200

    disabled = cli.json("partners", "disable", alice.id)
    assert disabled["id"] == alice.id
    assert disabled["name"] == "Alice Recruiting"
    assert disabled["disabled_at"] is not None
    with cli.client() as client:
        assert_refused(client, alice.key)
        assert_refused(client, second)
        assert status_of(client, bob.key) == 200

    listed = cli.json("partners", "list")
    assert [partner["id"] for partner in listed] == [alice.id, bob.id]
    assert listed[0] == disabled
    assert listed[1]["name"] == "Bob Headhunters"
    assert listed[1]["created_at"].endswith("Z")
    assert listed[1]["disabled_at"] is None


# Reference values


def test_references_list_and_load(cli: Cli, tmp_path: Path) -> None:
    counts = cli.json("references", "list")
    assert list(counts) == KINDS
    assert counts["sectors"] == 20
    assert all(isinstance(count, int) and count > 0 for count in counts.values())
    sectors = cli.json("references", "list", "sectors")
    assert len(sectors) == counts["sectors"]
    assert {"code": "software", "label": "Software & Internet"} in sectors
    assert all(set(item) == {"code", "label"} for item in sectors)

    extend = tmp_path / "extend.json"
    extend.write_text(
        json.dumps(
            {
                "kind": "sectors",
                "mode": "extend",
                "values": [
                    {"code": "space", "label": "Space Industry"},
                    {"code": "software", "label": "Software & SaaS"},
                ],
            }
        )
    )
    result = cli.json("references", "load", str(extend))
    assert result == {"kind": "sectors", "mode": "extend", "added": 1, "updated": 1, "retired": 0}

    replace = tmp_path / "replace.json"
    replace.write_text(
        json.dumps(
            {
                "kind": "sectors",
                "mode": "replace",
                "values": [
                    {"code": "software", "label": "Software & SaaS"},
                    {"code": "space", "label": "Space Industry"},
                ],
            }
        )
    )
    text = cli.human("references", "load", str(replace))
    assert text.strip() == "sectors: 0 added, 0 updated, 19 retired."

    alice, bob = cli.partners()
    with cli.client() as client:
        expected = [
            {"code": "software", "label": "Software & SaaS"},
            {"code": "space", "label": "Space Industry"},
        ]
        for partner in (alice, bob):
            response = client.get("/partners/v1/references/sectors", headers=partner.headers)
            assert response.json() == {"data": expected}
        create_company(client, "/partners/v1", alice, sector="space")
        response = client.post(
            "/partners/v1/companies",
            json={"name": "Clinic", "sector": "healthcare"},
            headers=bob.headers,
        )
        assert response.status_code == 400


# Mission review


def test_missions_list_and_set_status(cli: Cli) -> None:
    alice, bob = cli.partners()
    with cli.client() as client:
        first = create_mission(client, "/partners/v1", alice, title="First")
        theirs = create_mission(client, "/partners/v1", bob, title="Theirs")
        second = create_mission(client, "/partners/v1", alice, title="Second")
        ids = [first["id"], theirs["id"], second["id"]]

        awaiting = cli.json("missions", "list")
        assert [item["id"] for item in awaiting] == ids
        item = awaiting[0]
        assert {"id", "partner_id", "company_id", "title", "status", "created_at"} <= set(item)
        assert item["partner_id"] == alice.id
        assert item["company_id"] == first["company_id"]
        assert item["title"] == "First"
        assert {entry["status"] for entry in awaiting} == {"private"}
        assert awaiting[1]["partner_id"] == bob.id

        published = cli.json("missions", "set-status", first["id"], "live")
        assert published["id"] == first["id"]
        assert published["status"] == "live"
        response = client.get(f"/partners/v1/missions/{first['id']}", headers=alice.headers)
        assert response.json()["status"] == "live"
        assert response.json()["updated_at"] > first["updated_at"]
        assert (
            client.get(f"/partners/v1/missions/{first['id']}", headers=bob.headers).status_code
            == 404
        )

        closed = cli.json("missions", "set-status", theirs["id"], "closed")
        assert (closed["id"], closed["status"]) == (theirs["id"], "closed")
        response = client.get(f"/partners/hunteron/v1/missions/{theirs['id']}", headers=bob.headers)
        assert response.json()["status"] == "closed"

        live = cli.json("missions", "list", "--status", "live")
        assert [(item["id"], item["status"]) for item in live] == [(first["id"], "live")]
        everything = cli.json("missions", "list", "--status", "all")
        assert [(item["id"], item["status"]) for item in everything] == [
            (first["id"], "live"),
            (theirs["id"], "closed"),
            (second["id"], "private"),
        ]

    # By default, only what awaits review.
    text = cli.human("missions", "list")
    lines = text.splitlines()
    assert lines[0].split() == ["ID", "PARTNER_ID", "STATUS", "TITLE", "CREATED_AT"]
    assert len(lines) == 2
    assert second["id"] in lines[1]
    assert "Second" in lines[1]


def test_purge_removes_idempotency_keys_older_than_24_hours_and_frees_them(cli: Cli) -> None:
    alice = cli.partners()[0]
    with cli.client() as client, cli.engine() as engine:

        def post(key: str, name: str) -> Any:
            headers = alice.headers | {"Idempotency-Key": key}
            return client.post("/partners/v1/companies", json={"name": name}, headers=headers)

        old = post("old", "Old")
        recent = post("recent", "Recent")
        assert (old.status_code, recent.status_code) == (201, 201)
        now = datetime.now(UTC)
        ages = {"old": now - timedelta(hours=24, minutes=1), "recent": now - timedelta(hours=23)}
        with transaction(engine, write=True) as conn:
            for key, created_at in ages.items():
                conn.execute(
                    update(idempotency_keys)
                    .where(idempotency_keys.c.key == key)
                    .values(created_at=created_at)
                )

        assert cli.json("purge") == {"idempotency_keys": 1, "events": 0}
        with transaction(engine) as conn:
            assert list(conn.scalars(select(idempotency_keys.c.key))) == ["recent"]
        assert post("recent", "Recent").headers["idempotent-replayed"] == "true"
        assert post("recent", "Another").status_code == 422
        # The purged key may be used again, for another request: a new record.
        again = post("old", "Another")
        assert again.status_code == 201, again.text
        assert "idempotent-replayed" not in again.headers
        assert again.json()["id"] != old.json()["id"]

        assert cli.json("purge") == {"idempotency_keys": 0, "events": 0}
        assert cli.human("purge") == "Purged 0 idempotency keys and 0 events.\n"
        listed = client.get("/partners/v1/companies", headers=alice.headers).json()["data"]
        assert [company["name"] for company in listed] == ["Old", "Recent", "Another"]


# Failures


def _reference_file(tmp_path: Path, content: str) -> str:
    path = tmp_path / "file.json"
    path.write_text(content)
    return str(path)


DUPLICATES = (
    '{"kind": "sectors", "mode": "extend", '
    '"values": [{"code": "a", "label": "A"}, {"code": "a", "label": "B"}]}'
)
# name: (arguments, given the test's tmp_path; a part of the one line of error)
FAILURES: dict[str, tuple[Any, str]] = {
    "unknown command": (lambda tmp: ["bogus"], "bogus"),
    "missing argument": (lambda tmp: ["keys", "issue", "--json"], "PARTNER_ID"),
    "unknown partner": (lambda tmp: ["keys", "issue", "ptn_nope", "--json"], "ptn_nope"),
    "unknown key": (lambda tmp: ["keys", "revoke", "key_nope", "--json"], "key_nope"),
    "unknown mission": (lambda tmp: ["missions", "set-status", "msn_nope", "live"], "msn_nope"),
    "bad status": (lambda tmp: ["missions", "set-status", "msn_nope", "open", "--json"], "open"),
    "invalid reference file": (
        lambda tmp: ["references", "load", _reference_file(tmp, DUPLICATES), "--json"],
        "values[1].code",
    ),
}


@pytest.mark.parametrize(("make_args", "named"), FAILURES.values(), ids=FAILURES)
def test_a_failing_command_prints_one_line_naming_the_problem(
    cli: Cli, tmp_path: Path, make_args: Any, named: str
) -> None:
    alice, bob = cli.partners()
    line = cli.fails(*make_args(tmp_path))
    assert line.startswith("crosspath: ")
    assert named in line
    with cli.engine() as engine, transaction(engine) as conn:  # a failed command changes nothing
        assert [partner.id for partner in accounts.list_partners(conn)] == [alice.id, bob.id]
        assert references.count_current(conn)["sectors"] == 20


def test_a_review_decision_with_a_reason_shows_in_the_partners_events(cli: Cli) -> None:
    alice, bob = cli.partners()
    with cli.client() as client:
        company = client.post(
            "/partners/v1/companies", json={"name": "Clinica"}, headers=alice.headers
        ).json()
        mission = client.post(
            "/partners/v1/missions",
            json={"company_id": company["id"], "title": "Nurse", "description": "Care.",
                  "position": "software_engineering", "location": "fr-paris"},
            headers=alice.headers,
        ).json()  # fmt: skip
    published = cli.json("missions", "set-status", mission["id"], "live", "--reason", "Looks good")
    assert published["status"] == "live"
    events = cli.json("events", "list", alice.id)
    assert [(e["type"], e["actor"]) for e in events] == [
        ("mission.updated", "crosspath"),
        ("mission.created", "partner"),
        ("company.created", "partner"),
    ]
    assert events[0]["data"]["reason"] == "Looks good"
    assert events[0]["data"]["changed"] == ["status"]
    shown = cli.human("events", "list", alice.id, "--limit", "1")
    assert "mission.updated" in shown
    assert "crosspath  status  reason: Looks good" in shown
    assert cli.json("events", "list", bob.id) == []
    assert cli.human("events", "list", bob.id) == "(none)\n"

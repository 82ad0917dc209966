"""`crosspath operators` and `crosspath audit`, run as the installed command: operator accounts,
and the audit log of every change made from the command line."""

from __future__ import annotations

import getpass
import json
import socket
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from crosspath.access import service as access_requests
from crosspath.console.operators import verify_password
from crosspath.store.tables import operators
from crosspath.store.transaction import transaction
from tests.conftest import Partner, create_mission
from tests.test_cli import CROSSPATH, Cli

PASSWORD = "correct horse battery staple"


@pytest.fixture
def cli(database_url: str) -> Cli:
    return Cli(database_url)


def with_input(cli: Cli, stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"CROSSPATH_DATABASE_URL": cli.url, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [CROSSPATH, *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def stored_hash(cli: Cli, email: str) -> str:
    with cli.engine() as engine, transaction(engine) as conn:
        value = conn.scalar(select(operators.c.password_hash).where(operators.c.email == email))
    return str(value)


def test_operators_are_created_listed_given_a_new_password_and_disabled(cli: Cli) -> None:
    made = with_input(
        cli,
        PASSWORD + "\n",
        "operators",
        "create",
        "Ops@CrossPath.example",
        "--password-stdin",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    operator = json.loads(made.stdout)
    assert operator["email"] == "ops@crosspath.example"
    assert set(operator) == {"id", "email", "created_at", "password_changed_at", "disabled_at"}
    hashed = stored_hash(cli, "ops@crosspath.example")
    assert hashed.startswith("$argon2id$")
    assert PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD)

    short = with_input(
        cli, "too short\n", "operators", "create", "b@crosspath.example", "--password-stdin"
    )
    assert short.returncode == 1
    assert short.stderr == "crosspath: The password must be at least 12 characters.\n"
    twice = with_input(
        cli, PASSWORD + "\n", "operators", "create", "ops@crosspath.example", "--password-stdin"
    )
    assert twice.stderr == "crosspath: There is already an operator ops@crosspath.example.\n"

    reset = with_input(
        cli,
        "another long password\n",
        "operators",
        "reset-password",
        "ops@crosspath.example",
        "--password-stdin",
        "--json",
    )
    assert reset.returncode == 0, reset.stderr
    assert verify_password(stored_hash(cli, "ops@crosspath.example"), "another long password")
    disabled = cli.json("operators", "disable", "ops@crosspath.example")
    assert disabled["disabled_at"] is not None
    listed = cli.json("operators", "list")
    assert [(o["email"], o["disabled_at"]) for o in listed] == [
        ("ops@crosspath.example", disabled["disabled_at"])
    ]
    assert "ops@crosspath.example" in cli.human("operators", "list")
    assert cli.fails("operators", "disable", "nobody@crosspath.example") == (
        "crosspath: There is no operator nobody@crosspath.example."
    )


def test_operators_create_prompts_for_the_password_twice_without_password_stdin(
    cli: Cli,
) -> None:
    made = with_input(
        cli, f"{PASSWORD}\n{PASSWORD}\n", "operators", "create", "ops@crosspath.example", "--json"
    )
    assert made.returncode == 0, made.stderr
    assert "Repeat the password" in made.stdout + made.stderr
    assert verify_password(stored_hash(cli, "ops@crosspath.example"), PASSWORD)
    mismatch = with_input(
        cli,
        f"{PASSWORD}\nsomething else entirely\n",
        "operators",
        "create",
        "other@crosspath.example",
    )
    assert mismatch.returncode != 0
    assert "do not match" in mismatch.stdout + mismatch.stderr
    assert [o["email"] for o in cli.json("operators", "list")] == ["ops@crosspath.example"]


def test_every_change_made_from_the_command_line_is_in_the_audit_log(
    cli: Cli, tmp_path: Path
) -> None:
    partner = cli.json("partners", "create", "Alice Recruiting")
    key = cli.json("keys", "issue", partner["id"])
    cli.json("keys", "revoke", key["id"])
    issued = cli.issue_key(partner["id"])
    with cli.client() as client:
        mission = create_mission(
            client, "/partners/v1", Partner(partner["id"], issued.key, issued.id)
        )
    cli.json("missions", "set-status", mission["id"], "live", "--reason", "Looks right.")
    with cli.engine() as engine, transaction(engine, write=True) as conn:
        request = access_requests.create(
            conn,
            {
                "company": "Talent Bridge",
                "contact_name": "Ada",
                "email": "ada@tb.example",
                "platform": "ATS",
                "monthly_jds": 5,
            },
        )
    cli.json("access-requests", "reject", request.id, "--reason", "Test request.")
    file = tmp_path / "sectors.json"
    file.write_text(
        '{"kind": "sectors", "mode": "extend", "values": [{"code": "biotech", '
        '"label": "Biotechnology"}]}'
    )
    cli.json("references", "load", str(file))
    cli.json("partners", "disable", partner["id"])
    cli.json("missions", "list")  # reads leave no entry
    entries = cli.json("audit", "list")
    assert [(e["action"], e["record_id"]) for e in reversed(entries)] == [
        ("partner.create", partner["id"]),
        ("key.issue", key["id"]),
        ("key.revoke", key["id"]),
        ("mission.set_status", mission["id"]),
        ("access_request.reject", request.id),
        ("references.load", "sectors"),
        ("partner.disable", partner["id"]),
    ]
    assert {(e["actor"], e["address"]) for e in entries} == {
        (f"cli:{getpass.getuser()}", f"cli:{socket.gethostname()}")
    }
    assert entries[3]["detail"] == "live: Looks right."
    assert all(e["created_at"].endswith("Z") for e in entries)
    assert [e["action"] for e in cli.json("audit", "list", "--record", key["id"])] == [
        "key.revoke",
        "key.issue",
    ]
    assert "partner.disable" in cli.human("audit", "list", "--limit", "1")

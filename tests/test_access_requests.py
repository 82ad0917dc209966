"""Access requests as operators handle them: stored, listed, approved or rejected once, from the
`crosspath access-requests` commands; approving gives a partner account and a working key."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, func, inspect, select

from crosspath.access import service as access_requests
from crosspath.errors import AppError, Conflict
from crosspath.store import tables
from crosspath.store.engine import make_engine
from crosspath.store.migrate import downgrade, upgrade
from crosspath.store.transaction import transaction
from tests.conftest import BASE_PATHS, SECRET, create_company
from tests.test_cli import Cli

KEY = re.compile(r"^Recruitment-[A-Za-z0-9]{32}$")
ID = re.compile(r"^acr_[0-9A-HJKMNP-TV-Z]{26}$")


def request_body(**overrides: Any) -> dict[str, Any]:
    return {
        "company": "Talent Bridge",
        "contact_name": "Ada Martin",
        "email": "ada@talentbridge.example",
        "platform": "https://ats.talentbridge.example",
        "monthly_jds": 40,
        "message": "We plan to go live in March.",
    } | overrides


def submit(engine: Engine, **overrides: Any) -> access_requests.AccessRequest:
    with transaction(engine, write=True) as conn:
        return access_requests.create(conn, request_body(**overrides))


def partner_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(tables.partners)) or 0)


@pytest.fixture
def cli(database_url: str) -> Cli:
    return Cli(database_url)


def test_a_stored_request_is_pending_with_a_time_ordered_id(cli: Cli) -> None:
    with cli.engine() as engine:
        first = submit(engine)
        second = submit(engine, company="Hire Hub", email="ops@HIREHUB.Example")
    assert ID.match(first.id)
    assert first.id < second.id
    assert first.status == "pending"
    assert (first.decided_at, first.reason, first.partner_id) == (None, None, None)
    assert second.email == "ops@hirehub.example"  # the domain is stored in lower case

    listed = cli.json("access-requests", "list")
    assert [row["id"] for row in listed] == [first.id, second.id]
    assert listed[0]["company"] == "Talent Bridge"
    assert listed[0]["monthly_jds"] == 40
    assert cli.json("access-requests", "list", "--status", "pending") == listed
    assert cli.json("access-requests", "list", "--status", "approved") == []
    table = cli.human("access-requests", "list")
    assert first.id in table
    assert "Hire Hub" in table
    assert "pending" in table


def test_approving_creates_a_partner_and_a_first_key_that_works_on_both_base_paths(
    cli: Cli,
) -> None:
    alice, bob = cli.partners()
    with cli.engine() as engine:
        pending = submit(engine)
    with cli.client() as client:
        alices_company = create_company(client, BASE_PATHS[0], alice)

    approval = cli.json("access-requests", "approve", pending.id)

    assert set(approval) == {"partner_id", "key_id", "key"}
    assert KEY.match(approval["key"])
    headers = {"Authorization": f"Apikey {approval['key']}"}
    with cli.client() as client:
        for base in BASE_PATHS:
            page = client.get(f"{base}/companies", headers=headers)
            assert page.status_code == 200, page.text
            assert page.json() == {"data": [], "next_cursor": None}  # not Alice's company
            hidden = client.get(f"{base}/companies/{alices_company['id']}", headers=headers)
            assert hidden.status_code == 404
        for partner in (alice, bob):
            assert client.get("/partners/v1/companies", headers=partner.headers).status_code == 200

    partners = {row["id"]: row for row in cli.json("partners", "list")}
    assert partners[approval["partner_id"]]["name"] == "Talent Bridge"
    keys = cli.json("keys", "list", approval["partner_id"])
    assert [key["id"] for key in keys] == [approval["key_id"]]
    assert approval["key"] not in str(keys)

    decided = cli.json("access-requests", "list", "--status", "approved")
    assert [row["id"] for row in decided] == [pending.id]
    assert decided[0]["partner_id"] == approval["partner_id"]
    assert decided[0]["decided_at"] is not None
    assert cli.json("access-requests", "list", "--status", "pending") == []


def test_the_human_approval_prints_the_key_once_and_who_to_send_it_to(cli: Cli) -> None:
    alice, bob = cli.partners()
    with cli.engine() as engine:
        pending = submit(engine)
    out = cli.human("access-requests", "approve", pending.id)
    keys = re.findall(r"Recruitment-[A-Za-z0-9]{32}", out)
    assert len(keys) == 1
    assert "Ada Martin <ada@talentbridge.example>" in out
    assert re.search(r"ptn_[0-9A-Z]{26}", out)
    assert alice.key not in out
    assert bob.key not in out
    assert keys[0] not in cli.human("access-requests", "list")


def test_rejecting_keeps_the_reason_on_the_record_and_creates_no_partner(cli: Cli) -> None:
    cli.partners()
    with cli.engine() as engine:
        pending = submit(engine)
        before = partner_count(engine)
        rejected = cli.json(
            "access-requests", "reject", pending.id, "--reason", "  Not a recruitment platform. "
        )
        assert partner_count(engine) == before
    assert rejected["status"] == "rejected"
    assert rejected["reason"] == "Not a recruitment platform."
    assert rejected["partner_id"] is None
    assert rejected["decided_at"] is not None
    assert cli.json("access-requests", "list", "--status", "rejected") == [rejected]
    assert re.search(rf"{rejected['id']}\s+rejected", cli.human("access-requests", "list"))


def test_reject_requires_a_reason(cli: Cli) -> None:
    cli.partners()
    with cli.engine() as engine:
        pending = submit(engine)
    assert "--reason" in cli.run("access-requests", "reject", pending.id).stderr
    assert "reason" in cli.fails("access-requests", "reject", pending.id, "--reason", "   ")
    assert cli.json("access-requests", "list", "--status", "pending")[0]["id"] == pending.id


def test_a_request_is_decided_once(cli: Cli) -> None:
    cli.partners()
    with cli.engine() as engine:
        approved, rejected = submit(engine), submit(engine, company="Other")
        cli.json("access-requests", "approve", approved.id)
        cli.json("access-requests", "reject", rejected.id, "--reason", "Duplicate.")
        partners = partner_count(engine)

        message = cli.fails("access-requests", "approve", approved.id)
        assert f"{approved.id} was already approved" in message
        assert "decided once" in message
        assert "already approved" in cli.fails(
            "access-requests", "reject", approved.id, "--reason", "Changed my mind."
        )
        assert "already rejected" in cli.fails("access-requests", "approve", rejected.id)

        assert partner_count(engine) == partners
        with transaction(engine) as conn:
            assert access_requests.get(conn, approved.id).status == "approved"
            assert access_requests.get(conn, approved.id).reason is None
            assert access_requests.get(conn, rejected.id).reason == "Duplicate."


def test_an_unknown_request_id_is_one_line_on_stderr(cli: Cli) -> None:
    cli.partners()
    message = cli.fails("access-requests", "approve", "acr_01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert message == "crosspath: There is no access request acr_01ARZ3NDEKTSV4RRFFQ69G5FAV."
    assert "no access request" in cli.fails("access-requests", "reject", "nope", "--reason", "x")


def test_two_operators_approving_at_once_create_one_partner(engine: Engine) -> None:
    pending = submit(engine)
    before = partner_count(engine)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def approve() -> None:
        barrier.wait()
        try:
            with transaction(engine, write=True) as conn:
                outcomes.append(access_requests.approve(conn, SECRET, pending.id))
        except AppError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    approvals = [o for o in outcomes if isinstance(o, access_requests.Approval)]
    assert len(approvals) == 1
    assert [type(o) for o in outcomes if not isinstance(o, access_requests.Approval)] == [Conflict]
    assert partner_count(engine) == before + 1
    with transaction(engine) as conn:
        assert access_requests.get(conn, pending.id).partner_id == approvals[0].partner_id


def test_the_migration_adds_and_removes_only_the_access_requests_table(
    empty_database_url: str,
) -> None:
    engine = make_engine(empty_database_url)
    try:
        upgrade(engine, "0001")
        tables = set(inspect(engine).get_table_names())
        assert "access_requests" not in tables
        upgrade(engine, "0002")
        assert set(inspect(engine).get_table_names()) == tables | {"access_requests"}
        downgrade(engine, "0001")
        assert set(inspect(engine).get_table_names()) == tables
    finally:
        engine.dispose()


def test_partners_approved_from_requests_see_only_their_own_records(
    client: TestClient[Any], engine: Engine
) -> None:
    first, second = submit(engine, company="First"), submit(engine, company="Second")
    with transaction(engine, write=True) as conn:
        keys = [access_requests.approve(conn, SECRET, r.id).key for r in (first, second)]
    headers = [{"Authorization": f"Apikey {key}"} for key in keys]
    made = client.post("/partners/v1/companies", json={"name": "Mine"}, headers=headers[0])
    assert made.status_code == 201
    assert len(client.get("/partners/v1/companies", headers=headers[0]).json()["data"]) == 1
    assert client.get("/partners/v1/companies", headers=headers[1]).json()["data"] == []
    other = client.get(f"/partners/v1/companies/{made.json()['id']}", headers=headers[1])
    assert other.status_code == 404

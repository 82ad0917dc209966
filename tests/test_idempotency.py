"""`Idempotency-Key` on every partner POST: a retry gets the first answer and writes nothing.

Over ASGI for the rules; against the real server (several workers, threads) for concurrent
retries, and with a SIGKILL between the write and its answer for the crash.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, func, select

from crosspath.accounts import service as accounts
from crosspath.store.tables import companies, idempotency_keys, missions
from crosspath.store.transaction import transaction
from tests.conftest import (
    BASE_PATHS,
    SECRET,
    Partner,
    company_body,
    create_company,
    error_of,
    make_partner,
    mission_body,
)
from tests.test_server import start, stop

HEADER = "Idempotency-Key"
SERVER_ENV = {"CROSSPATH_SECRET_KEY": SECRET}  # the keys make_partner issues


def count(engine: Engine, table: Any, partner: Partner) -> int:
    with transaction(engine) as conn:
        query = select(func.count()).select_from(table).where(table.c.partner_id == partner.id)
        return int(conn.scalar(query) or 0)


def post(
    client: TestClient[Any],
    path: str,
    partner: Partner,
    key: str | bytes | None,
    body: Any = None,
    content: bytes | None = None,
) -> httpx.Response:
    headers: dict[str, Any] = dict(partner.headers)
    if key is not None:
        headers[HEADER] = key
    if content is not None:
        headers["Content-Type"] = "application/json"
        return client.post(path, content=content, headers=headers)
    return client.post(path, json=body, headers=headers)


def assert_replay_of(first: httpx.Response, retry: httpx.Response) -> None:
    assert retry.status_code == first.status_code, retry.text
    assert retry.content == first.content
    assert retry.headers.get("location") == first.headers.get("location")
    assert retry.headers["idempotent-replayed"] == "true"


def test_a_retry_with_the_same_key_and_body_replays_the_first_answer_and_writes_nothing(
    client: TestClient[Any], engine: Engine, alice: Partner, base: str
) -> None:
    first = post(client, f"{base}/companies", alice, "key-1", company_body())
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert first.headers["location"] == f"{base}/companies/{first.json()['id']}"
    for _ in range(2):
        assert_replay_of(first, post(client, f"{base}/companies", alice, "key-1", company_body()))
    assert count(engine, companies, alice) == 1

    company_id = first.json()["id"]
    body = mission_body(company_id)
    created = post(client, f"{base}/missions", alice, "key-2", body)
    assert created.status_code == 201, created.text
    assert_replay_of(created, post(client, f"{base}/missions", alice, "key-2", body))
    assert count(engine, missions, alice) == 1


def test_a_body_equal_once_decoded_replays_whatever_its_key_order_and_whitespace(
    client: TestClient[Any], engine: Engine, alice: Partner, base: str
) -> None:
    body = company_body(external_id="c-1")
    first = post(client, f"{base}/companies", alice, "k", content=json.dumps(body).encode())
    assert first.status_code == 201, first.text
    reordered = dict(reversed(list(body.items())))
    spaced = json.dumps(reordered, indent=4, separators=(" ,  ", " :  ")).encode() + b"\n\n"
    assert_replay_of(first, post(client, f"{base}/companies", alice, "k", content=spaced))
    compact = json.dumps(body, separators=(",", ":")).encode()
    assert_replay_of(first, post(client, f"{base}/companies", alice, "k", content=compact))
    assert count(engine, companies, alice) == 1


def test_the_same_key_with_another_body_or_path_is_422_and_writes_nothing(
    client: TestClient[Any], engine: Engine, alice: Partner, base: str
) -> None:
    first = post(client, f"{base}/companies", alice, "k", company_body())
    assert first.status_code == 201, first.text
    other_body = post(client, f"{base}/companies", alice, "k", company_body(name="Other Co"))
    assert other_body.status_code == 422, other_body.text
    assert "Idempotency-Key" in error_of(other_body)
    assert "different request" in error_of(other_body)
    assert "idempotent-replayed" not in other_body.headers

    mission = mission_body(first.json()["id"])
    other_path = post(client, f"{base}/missions", alice, "k", mission)
    assert other_path.status_code == 422, other_path.text
    assert error_of(other_path) == error_of(other_body)
    # A batch is another path too.
    batch = post(
        client, f"{base}/companies/batch", alice, "k", {"items": [company_body(external_id="b")]}
    )
    assert batch.status_code == 422, batch.text
    assert count(engine, companies, alice) == 1
    assert count(engine, missions, alice) == 0
    # The first request's answer is still there for its own retries.
    assert_replay_of(first, post(client, f"{base}/companies", alice, "k", company_body()))


def test_a_key_belongs_to_one_partner_another_uses_the_same_value_freely(
    client: TestClient[Any], engine: Engine, alice: Partner, bob: Partner, base: str
) -> None:
    alices = post(client, f"{base}/companies", alice, "shared", company_body())
    assert alices.status_code == 201, alices.text
    same = post(client, f"{base}/companies", bob, "shared", company_body())
    assert same.status_code == 201, same.text
    assert "idempotent-replayed" not in same.headers
    assert same.json()["id"] != alices.json()["id"]
    other = post(client, f"{base}/companies", bob, "shared-2", company_body(name="Bob Co"))
    assert other.status_code == 201, other.text
    alice_other = post(client, f"{base}/companies", alice, "shared-2", company_body())
    assert alice_other.status_code == 201, alice_other.text  # not 422: bob's key is not hers
    assert count(engine, companies, alice) == 2
    assert count(engine, companies, bob) == 2
    assert client.get(f"{base}/companies/{same.json()['id']}", headers=alice.headers).is_error


def test_a_retry_with_the_partners_rotated_api_key_still_replays(
    client: TestClient[Any], engine: Engine, alice: Partner, base: str
) -> None:
    first = post(client, f"{base}/companies", alice, "rotate", company_body())
    assert first.status_code == 201, first.text
    with transaction(engine, write=True) as conn:
        issued = accounts.issue_key(conn, SECRET, alice.id, "rotated")
    rotated = Partner(alice.id, issued.key, issued.id)
    assert rotated.key != alice.key
    assert_replay_of(first, post(client, f"{base}/companies", rotated, "rotate", company_body()))
    assert count(engine, companies, alice) == 1


def test_an_error_is_not_kept_the_fixed_body_retried_with_the_same_key_creates(
    client: TestClient[Any], engine: Engine, alice: Partner, base: str
) -> None:
    broken = post(client, f"{base}/companies", alice, "fix-me", company_body(size="huge"))
    assert broken.status_code == 400, broken.text
    again = post(client, f"{base}/companies", alice, "fix-me", company_body(size="huge"))
    assert again.status_code == 400, again.text
    assert "idempotent-replayed" not in again.headers
    fixed = post(client, f"{base}/companies", alice, "fix-me", company_body())
    assert fixed.status_code == 201, fixed.text
    assert "idempotent-replayed" not in fixed.headers
    assert count(engine, companies, alice) == 1
    assert_replay_of(fixed, post(client, f"{base}/companies", alice, "fix-me", company_body()))

    # A conflict (409) is an error too: after freeing the external id, the key creates.
    taken = create_company(client, base, alice, external_id="taken")
    conflict = post(client, f"{base}/companies", alice, "k409", company_body(external_id="taken"))
    assert conflict.status_code == 409, conflict.text
    freed = client.patch(
        f"{base}/companies/{taken['id']}", json={"external_id": None}, headers=alice.headers
    )
    assert freed.status_code == 200, freed.text
    created = post(client, f"{base}/companies", alice, "k409", company_body(external_id="taken"))
    assert created.status_code == 201, created.text
    assert count(engine, companies, alice) == 3
    with transaction(engine) as conn:
        kept = conn.scalar(select(func.count()).select_from(idempotency_keys))
    assert kept == 2  # fix-me and k409: no error outcome was stored


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "clé".encode(), "tab\there", "bell\x07", "nul\x00x", "del\x7f"],
    ids=["empty", "256-chars", "non-ascii", "tab", "bell", "nul", "del"],
)
def test_an_invalid_key_is_a_400_naming_the_header_and_writes_nothing(
    client: TestClient[Any], engine: Engine, alice: Partner, base: str, key: str | bytes
) -> None:
    response = post(client, f"{base}/companies", alice, key, company_body())
    assert response.status_code == 400, response.text
    assert "Idempotency-Key" in error_of(response)
    assert count(engine, companies, alice) == 0


def test_a_key_of_255_printable_characters_is_accepted_and_replays(
    client: TestClient[Any], engine: Engine, alice: Partner, base: str
) -> None:
    longest = "".join(chr(33 + i % 94) for i in range(254)) + " "
    longest = "~" + longest[1:-1] + "~"
    assert len(longest) == 255
    first = post(client, f"{base}/companies", alice, longest, company_body())
    assert first.status_code == 201, first.text
    assert_replay_of(first, post(client, f"{base}/companies", alice, longest, company_body()))
    assert count(engine, companies, alice) == 1


def test_a_retry_on_the_other_base_path_replays_the_first_answer(
    client: TestClient[Any], engine: Engine, alice: Partner
) -> None:
    first_base, other_base = BASE_PATHS
    company = create_company(client, first_base, alice)
    body = mission_body(company["id"])
    first = post(client, f"{first_base}/missions", alice, "alias", body)
    assert first.status_code == 201, first.text
    retry = post(client, f"{other_base}/missions", alice, "alias", body)
    assert_replay_of(first, retry)
    assert count(engine, missions, alice) == 1
    other_path = post(client, f"{other_base}/companies", alice, "alias", company_body())
    assert other_path.status_code == 422, other_path.text


def test_a_batch_retried_with_its_key_replays_its_results_and_writes_nothing(
    client: TestClient[Any], engine: Engine, alice: Partner, base: str
) -> None:
    company = create_company(client, base, alice, external_id="cmp-1")
    items = [
        mission_body(company["id"], external_id="m-1"),
        mission_body(company["id"], external_id="m-2", title="Data Lead"),
        mission_body(company["id"], external_id="m-3", status="live"),  # refused: 400
    ]
    first = post(client, f"{base}/missions/batch", alice, "batch", {"items": items})
    assert first.status_code == 200, first.text
    assert first.json()["summary"] == {"created": 2, "updated": 0, "unchanged": 0, "failed": 1}
    retry = post(client, f"{base}/missions/batch", alice, "batch", {"items": items})
    assert_replay_of(first, retry)
    assert count(engine, missions, alice) == 2
    # Without the key, the same batch is applied again: unchanged this time.
    plain = post(client, f"{base}/missions/batch", alice, None, {"items": items})
    assert plain.json()["summary"] == {"created": 0, "updated": 0, "unchanged": 2, "failed": 1}

    companies_batch = {"items": [company_body(external_id="cmp-2")]}
    made = post(client, f"{base}/companies/batch", alice, "cbatch", companies_batch)
    assert made.status_code == 200, made.text
    assert_replay_of(
        made, post(client, f"{base}/companies/batch", alice, "cbatch", companies_batch)
    )
    assert count(engine, companies, alice) == 2


def test_a_post_without_a_key_still_works_and_twice_creates_two_records(
    client: TestClient[Any], engine: Engine, alice: Partner, base: str
) -> None:
    first = post(client, f"{base}/companies", alice, None, company_body())
    second = post(client, f"{base}/companies", alice, None, company_body())
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert "idempotent-replayed" not in second.headers
    assert count(engine, companies, alice) == 2
    with transaction(engine) as conn:
        assert conn.scalar(select(func.count()).select_from(idempotency_keys)) == 0


# The real server


def test_concurrent_retries_with_one_key_make_exactly_one_record(
    database_url: str, engine: Engine
) -> None:
    alice = make_partner(engine, "Alice")
    server = start(database_url, "--workers", "2", env=SERVER_ENV)
    try:
        url = f"{server.url}/partners/v1"
        with httpx.Client(base_url=url, headers=alice.headers, timeout=60) as http:
            company = http.post("/companies", json=company_body()).json()["id"]
        body = mission_body(company, external_id="race")

        def send(_: int) -> httpx.Response:
            headers = alice.headers | {HEADER: "one-key"}
            return httpx.post(f"{url}/missions", json=body, headers=headers, timeout=60)

        for _round in range(3):
            with ThreadPoolExecutor(max_workers=8) as pool:
                answers = list(pool.map(send, range(8)))
            created = [a for a in answers if a.status_code == 201]
            assert created, [a.text for a in answers]
            assert len({a.json()["id"] for a in created}) == 1
            assert sum("idempotent-replayed" not in a.headers for a in created) <= 1
            for answer in answers:
                if answer.status_code == 409:
                    assert "still being processed" in error_of(answer)
                else:
                    assert answer.status_code == 201, answer.text
                    assert answer.content == created[0].content
            assert count(engine, missions, alice) == 1
        # After the race, every retry replays.
        assert send(0).headers["idempotent-replayed"] == "true"
        # Two header lines (over real HTTP: the test client would merge them) are refused.
        twice = httpx.post(
            f"{url}/companies",
            json=company_body(),
            headers=[*alice.headers.items(), (HEADER, "a"), (HEADER, "b")],
            timeout=60,
        )
        assert twice.status_code == 400, twice.text
        assert HEADER in error_of(twice)
        assert count(engine, companies, alice) == 1
    finally:
        stop(server)


def test_a_server_killed_after_the_write_replays_its_outcome_once_restarted(
    database_url: str, engine: Engine
) -> None:
    alice = make_partner(engine, "Alice")
    server = start(database_url, env=SERVER_ENV)
    company_body_bytes = json.dumps(company_body(external_id="crash")).encode()
    address = urlsplit(server.url)
    try:
        with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
            request = (
                f"POST /partners/v1/companies HTTP/1.1\r\nHost: {address.netloc}\r\n"
                f"Authorization: {alice.headers['Authorization']}\r\n"
                f"{HEADER}: crash-key\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(company_body_bytes)}\r\n\r\n"
            ).encode()
            sock.sendall(request + company_body_bytes)
            deadline = time.monotonic() + 30
            while count(engine, companies, alice) == 0:
                assert time.monotonic() < deadline, "the write never committed"
                time.sleep(0.01)
            # The answer is never read: the process dies with it.
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.communicate(timeout=30)
        with transaction(engine) as conn:
            stored = conn.execute(select(idempotency_keys)).all()
        assert [(row.partner_id, row.key) for row in stored] == [(alice.id, "crash-key")]

        server = start(database_url, env=SERVER_ENV)
        headers = alice.headers | {HEADER: "crash-key", "Content-Type": "application/json"}
        retry = httpx.post(
            f"{server.url}/partners/v1/companies", content=company_body_bytes, headers=headers
        )
        assert retry.status_code == 201, retry.text
        assert retry.headers["idempotent-replayed"] == "true"
        created = retry.json()
        assert retry.headers["location"] == f"/partners/v1/companies/{created['id']}"
        assert created["external_id"] == "crash"
        with transaction(engine) as conn:
            ids = conn.scalars(select(companies.c.id).where(companies.c.partner_id == alice.id))
            assert list(ids) == [created["id"]]
    finally:
        stop(server)


def test_the_migration_adds_and_removes_only_the_idempotency_keys_table(
    empty_database_url: str,
) -> None:
    from sqlalchemy import inspect

    from crosspath.store.engine import make_engine
    from crosspath.store.migrate import downgrade, upgrade

    engine = make_engine(empty_database_url)
    try:
        upgrade(engine, "0002")
        tables = set(inspect(engine).get_table_names())
        assert "idempotency_keys" not in tables
        upgrade(engine, "0003")
        assert set(inspect(engine).get_table_names()) == tables | {"idempotency_keys"}
        downgrade(engine, "0002")
        assert set(inspect(engine).get_table_names()) == tables
    finally:
        engine.dispose()

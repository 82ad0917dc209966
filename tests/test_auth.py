"""Authentication: the two header schemes, the one 401, key rotation, revocation and storage."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, select

from crosspath.accounts import service as accounts
from crosspath.store import tables
from crosspath.store.transaction import transaction
from tests.conftest import SECRET, Partner, company_body, create_company, error_of
from tests.contract import AUTHENTICATE, MISSING_API_KEY

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert error_of(response) == MISSING_API_KEY
    assert response.headers["WWW-Authenticate"] == AUTHENTICATE


def company_names(client: TestClient[Any], base: str, headers: dict[str, str]) -> list[str]:
    response = client.get(f"{base}/companies", headers=headers)
    assert response.status_code == 200, response.text
    return [company["name"] for company in response.json()["data"]]


def issue_second_key(engine: Engine, partner: Partner) -> str:
    with transaction(engine, write=True) as conn:
        return accounts.issue_key(conn, SECRET, partner.id, "rotation").key


def revoke(engine: Engine, key_id: str) -> None:
    with transaction(engine, write=True) as conn:
        accounts.revoke_key(conn, key_id)


def disable(engine: Engine, partner: Partner) -> None:
    with transaction(engine, write=True) as conn:
        accounts.disable_partner(conn, partner.id)


def keys_of(engine: Engine, partner: Partner) -> list[accounts.KeyInfo]:
    with transaction(engine) as conn:
        return accounts.list_keys(conn, partner.id)


# Accepted headers


@pytest.mark.parametrize("scheme", ["Apikey", "Bearer", "APIKEY", "apikey", "bearer", "BEARER"])
def test_it_accepts_both_schemes_whatever_their_case(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, scheme: str
) -> None:
    create_company(client, base, alice, name="Alice Co")
    create_company(client, base, bob, name="Bob Co")
    assert company_names(client, base, {"Authorization": f"{scheme} {alice.key}"}) == ["Alice Co"]
    assert company_names(client, base, {"Authorization": f"{scheme} {bob.key}"}) == ["Bob Co"]


def test_it_accepts_writes_with_a_bearer_key(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    response = client.post(
        f"{base}/companies", json=company_body(), headers={"Authorization": f"Bearer {alice.key}"}
    )
    assert response.status_code == 201, response.text
    assert company_names(client, base, alice.headers) == ["Clinica Health"]
    assert company_names(client, base, bob.headers) == []


# The one 401


def test_it_refuses_a_request_without_an_authorization_header(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    create_company(client, base, alice)
    create_company(client, base, bob)
    assert_refused(client.get(f"{base}/companies"))
    assert_refused(client.get(f"{base}/references"))


@pytest.mark.parametrize(
    "header",
    [
        "Basic {key}",
        "Token {key}",
        "Api-Key {key}",
        "Apikey: {key}",
        "{key}",
        "Apikey{key}",
        "Apikey",
        "Bearer",
        "",
        " ",
    ],
)
def test_it_refuses_an_unknown_scheme_or_a_header_without_one(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, header: str
) -> None:
    for partner in (alice, bob):
        headers = {"Authorization": header.format(key=partner.key)}
        assert_refused(client.get(f"{base}/companies", headers=headers))


def malformed_variants(key: str) -> list[str]:
    secret_part = key.removeprefix("Recruitment-")
    return [
        "recruitment-" + secret_part,  # prefix in the wrong case
        "Recruitment_" + secret_part,  # wrong separator
        "Recruiter-" + secret_part,  # wrong prefix
        secret_part,  # no prefix
        "Recruitment-",  # prefix only
        key[:-1],  # 31 characters
        key + "A",  # 33 characters
        key + key,  # far too long
        key[:-1] + "-",  # a non-alphanumeric character
        key[:-1] + "_",
        key[:-1] + "+",
        key[:20] + "." + key[21:],
        key + " extra",  # trailing garbage
    ]


def test_it_refuses_malformed_keys(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    for partner in (alice, bob):
        for variant in malformed_variants(partner.key):
            for scheme in ("Apikey", "Bearer"):
                response = client.get(
                    f"{base}/companies", headers={"Authorization": f"{scheme} {variant}"}
                )
                assert_refused(response)


def test_it_refuses_a_well_formed_key_that_was_never_issued(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    last = alice.key[-1]
    forged = alice.key[:-1] + ("A" if last != "A" else "B")
    assert_refused(client.get(f"{base}/companies", headers={"Authorization": f"Apikey {forged}"}))
    assert_refused(
        client.get(
            f"{base}/companies", headers={"Authorization": "Apikey " + "Recruitment-" + "0" * 32}
        )
    )
    # Keys are case-sensitive: the same letters in another case are another key.
    swapped = "Recruitment-" + bob.key.removeprefix("Recruitment-").swapcase()
    if swapped != bob.key:
        assert_refused(
            client.get(f"{base}/companies", headers={"Authorization": f"Apikey {swapped}"})
        )
    assert company_names(client, base, alice.headers) == []
    assert company_names(client, base, bob.headers) == []


def test_it_refuses_a_key_issued_under_another_secret(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    """A key is only valid for the deployment whose secret hashed it."""
    with transaction(engine, write=True) as conn:
        foreign = accounts.issue_key(conn, "another-secret-" + "y" * 40, alice.id, "foreign").key
    assert_refused(client.get(f"{base}/companies", headers={"Authorization": f"Apikey {foreign}"}))
    assert company_names(client, base, alice.headers) == []
    assert company_names(client, base, bob.headers) == []


def test_it_refuses_a_revoked_key_from_the_very_next_request(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    create_company(client, base, alice, name="Alice Co")
    assert company_names(client, base, alice.headers) == ["Alice Co"]
    revoke(engine, alice.key_id)
    assert_refused(client.get(f"{base}/companies", headers=alice.headers))
    assert_refused(
        client.get(f"{base}/companies", headers={"Authorization": f"Bearer {alice.key}"})
    )
    assert_refused(client.post(f"{base}/companies", json=company_body(), headers=alice.headers))
    assert company_names(client, base, bob.headers) == []


def test_revoking_a_key_twice_keeps_it_revoked(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    revoke(engine, alice.key_id)
    first = next(key for key in keys_of(engine, alice) if key.id == alice.key_id).revoked_at
    revoke(engine, alice.key_id)
    second = next(key for key in keys_of(engine, alice) if key.id == alice.key_id).revoked_at
    assert first is not None
    assert first == second
    assert_refused(client.get(f"{base}/companies", headers=alice.headers))
    assert company_names(client, base, bob.headers) == []


def test_it_refuses_every_key_of_a_disabled_partner(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    second = issue_second_key(engine, alice)
    create_company(client, base, alice, name="Alice Co")
    create_company(client, base, bob, name="Bob Co")
    disable(engine, alice)
    assert_refused(client.get(f"{base}/companies", headers=alice.headers))
    assert_refused(client.get(f"{base}/companies", headers={"Authorization": f"Apikey {second}"}))
    assert_refused(client.post(f"{base}/companies", json=company_body(), headers=alice.headers))
    assert company_names(client, base, bob.headers) == ["Bob Co"]


def test_a_key_issued_to_a_disabled_partner_is_refused(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    disable(engine, alice)
    fresh = issue_second_key(engine, alice)
    assert_refused(client.get(f"{base}/companies", headers={"Authorization": f"Apikey {fresh}"}))
    assert company_names(client, base, bob.headers) == []


# Rotation


def test_a_partner_may_use_a_second_active_key(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    second = {"Authorization": f"Apikey {issue_second_key(engine, alice)}"}
    company = create_company(client, base, alice, name="Made with the first key")
    create_company(client, base, bob, name="Bob Co")
    assert company_names(client, base, second) == ["Made with the first key"]
    response = client.get(f"{base}/companies/{company['id']}", headers=second)
    assert response.json() == company
    response = client.post(f"{base}/companies", json=company_body(name="Second"), headers=second)
    assert response.status_code == 201, response.text
    assert company_names(client, base, alice.headers) == ["Made with the first key", "Second"]


def test_rotation_revoking_the_old_key_leaves_the_new_one_working(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    second = {"Authorization": f"Bearer {issue_second_key(engine, alice)}"}
    create_company(client, base, alice, name="Alice Co")
    revoke(engine, alice.key_id)
    assert_refused(client.get(f"{base}/companies", headers=alice.headers))
    assert company_names(client, base, second) == ["Alice Co"]
    assert company_names(client, base, bob.headers) == []


# 401 comes first under a base path


TEXT_PLAIN = {"headers": {"Content-Type": "text/plain"}, "content": b"hello"}
BAD_JSON = {"headers": {"Content-Type": "application/json"}, "content": b"{not json"}
BROKEN_REQUESTS = [
    ("GET", "/no-such-route", {}),
    ("GET", "", {}),
    ("GET", "/", {}),
    ("GET", "/companies/cmp_unknown/extra", {}),
    ("DELETE", "/companies", {}),
    ("PUT", "/missions", {"json": {}}),
    ("POST", "/references", {"json": {}}),
    ("POST", "/companies", TEXT_PLAIN),
    ("PATCH", "/companies/cmp_unknown", TEXT_PLAIN),
    ("POST", "/companies", BAD_JSON),
    ("POST", "/missions", {"json": [1, 2, 3]}),
    ("POST", "/companies", {"json": {"name": ""}}),
    ("PATCH", "/missions/msn_unknown", {"json": {"status": "live"}}),
    ("GET", "/companies?limit=banana", {}),
    ("GET", "/references/no-such-kind", {}),
]


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    BROKEN_REQUESTS,
    ids=[
        f"{number}-{method}{path or '(base)'}"
        for number, (method, path, _) in enumerate(BROKEN_REQUESTS)
    ],
)
def test_a_request_without_a_valid_key_gets_401_whatever_else_is_wrong(
    client: TestClient[Any],
    base: str,
    alice: Partner,
    bob: Partner,
    method: str,
    path: str,
    kwargs: dict[str, Any],
) -> None:
    kwargs = dict(kwargs)
    extra_headers = kwargs.pop("headers", {})
    for authorization in (None, "Basic abc", f"Apikey {alice.key[:-1]}", f"Bearer {bob.key}x"):
        headers = dict(extra_headers)
        if authorization is not None:
            headers["Authorization"] = authorization
        assert_refused(client.request(method, base + path, headers=headers, **kwargs))
    assert company_names(client, base, alice.headers) == []
    assert company_names(client, base, bob.headers) == []


def test_routes_outside_the_base_paths_need_no_key(
    client: TestClient[Any], alice: Partner, bob: Partner
) -> None:
    for path in ("/healthz", "/readyz", "/openapi.json", "/docs"):
        assert client.get(path).status_code == 200, path
        assert client.get(path, headers={"Authorization": "Basic nonsense"}).status_code == 200
        assert client.get(path, headers=alice.headers).status_code == 200
        assert client.get(path, headers=bob.headers).status_code == 200


def test_a_path_that_only_starts_like_a_base_path_is_not_a_partner_path(
    client: TestClient[Any], alice: Partner
) -> None:
    response = client.get("/partners/v10/companies")
    assert response.status_code == 404
    error_of(response)
    assert "WWW-Authenticate" not in response.headers


# Storage


def test_keys_are_stored_only_as_a_hash(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    second = issue_second_key(engine, alice)
    for headers in (alice.headers, bob.headers, {"Authorization": f"Apikey {second}"}):
        assert client.get(f"{base}/companies", headers=headers).status_code == 200
    keys = [alice.key, bob.key, second]
    with engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            for row in conn.execute(select(table)):
                text = repr(tuple(row))
                for key in keys:
                    secret_part = key.removeprefix("Recruitment-")
                    assert secret_part not in text, table.name
                    assert secret_part.lower() not in text.lower(), table.name
        stored = conn.execute(select(tables.api_keys.c.key_hash, tables.api_keys.c.prefix)).all()
    assert len(stored) == 3
    for key_hash, prefix in stored:
        assert re.fullmatch(r"[0-9a-f]{64}", key_hash)
        assert prefix.startswith("Recruitment-")
        assert len(prefix) <= len("Recruitment-") + 8


def test_listed_keys_show_a_prefix_too_short_to_use(
    client: TestClient[Any], alice: Partner, bob: Partner, engine: Engine
) -> None:
    for partner in (alice, bob):
        (info,) = keys_of(engine, partner)
        assert info.id == partner.key_id
        assert partner.key.startswith(info.prefix)
        assert len(info.prefix) < len(partner.key) - 24
        assert TIMESTAMP.match(info.created_at)
        assert info.revoked_at is None


def test_a_use_sets_last_used_at_on_that_key_only(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    issue_second_key(engine, alice)
    assert [key.last_used_at for key in keys_of(engine, alice)] == [None, None]
    assert client.get(f"{base}/companies", headers=alice.headers).status_code == 200
    used = {key.id: key.last_used_at for key in keys_of(engine, alice)}
    assert used[alice.key_id] is not None
    assert TIMESTAMP.match(used[alice.key_id] or "")
    assert [value for key_id, value in used.items() if key_id != alice.key_id] == [None]
    assert [key.last_used_at for key in keys_of(engine, bob)] == [None]


def test_a_refused_request_does_not_set_last_used_at(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, engine: Engine
) -> None:
    revoke(engine, alice.key_id)
    assert_refused(client.get(f"{base}/companies", headers=alice.headers))
    assert [key.last_used_at for key in keys_of(engine, alice)] == [None]
    assert [key.last_used_at for key in keys_of(engine, bob)] == [None]

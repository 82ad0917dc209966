"""Fuzzing every operation of the service's own OpenAPI document with schemathesis.

Every partner operation runs on both base paths. With a valid key: no response is a server
error, every error body is exactly {"error": "<sentence>"}, every 2xx body matches the
documented schema, and no response shows another partner's record. With bad keys (missing,
malformed, unknown, revoked, disabled): every response is the contract's 401. Generated values
are now and then swapped for ids, cursors, external ids and codes that exist, so that requests
get past the 404s and 400s to the code behind them, or for hostile ones (a NUL).

Examples per operation and test: CROSSPATH_FUZZ_EXAMPLES. Unset, a small run with a fixed seed
(the one CI runs); set, that many examples with a fresh seed each run, e.g.
CROSSPATH_FUZZ_EXAMPLES=500 .venv/bin/pytest tests/test_fuzz.py
"""

from __future__ import annotations

import copy
import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import httpx
import hypothesis
import msgspec
import pytest
import schemathesis
from hypothesis import strategies as st
from litestar.testing import TestClient
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.hooks import HookContext
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, create_engine

from crosspath.accounts import service as accounts
from crosspath.api.app import build_litestar
from crosspath.missions.schema import EXAMPLE_COMPANY_ID
from crosspath.paging import encode_cursor
from crosspath.settings import Settings
from crosspath.store.transaction import transaction
from tests.conftest import SECRET, Partner, create_company, create_mission, make_partner, set_status
from tests.contract import AUTHENTICATE, MISSING_API_KEY

DEFAULT_EXAMPLES = 20
EXAMPLES = int(os.environ.get("CROSSPATH_FUZZ_EXAMPLES") or 0)
DOCUMENTED_BASE = "/partners/v1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Generated values are now and then swapped for one of these, by name wherever it appears (path,
# query, body): placeholders for the records of the test's own database (see World), codes of
# the default reference sets, and hostile values. Path values go into the URL as they are.
SWAPS: dict[str, list[Any]] = {
    "company_id": ["{own company}", "{foreign company}", "%00", "cmp_%00"],
    "mission_id": ["{private mission}", "{live mission}", "{foreign mission}", "%00"],
    "cursor": ["{company cursor}", "{mission cursor}", "\x00"],
    "external_id": ["a-1", "a-m1", "b-m1", "\x00", "a\x00b", "a/1?x=1&y=100% z"],
    "company_external_id": ["a-1", "b-1", "\x00"],
    "sector": ["software", "healthcare"],
    "size": ["51-200", "10001+"],
    "location": ["fr-paris", "FR", "DE"],
    "position": ["software_engineering", "design"],
    "languages": [[], ["fr"], ["en", "fr"]],
    "status": ["private", "live", "closed"],
    # Request headers: keys reused across examples (so replays and 422s happen), a key with a
    # character that is not printable ASCII (400); ETags that exist, that are stale, or `*`.
    "Idempotency-Key": ["retry-1", "retry-2", "a\tb", "k" * 256],
    "If-Match": ["*", "{private mission etag}", '"stale"', 'W/"weak"'],
    "If-None-Match": ["*", "{private mission etag}", "{own company etag}", '"stale"'],
}
# In the path, an external id is percent-encoded (`/`, `?`, `&`, `%` and spaces included).
PATH_SWAPS: dict[str, list[Any]] = {
    "external_id": ["a-1", "a-m1", "b-m1", "%00", "a%2F1%3Fx%3D1%26y%3D100%25%20z", "%20"],
}
OWN_RECORDS = {
    "company_id": "{own company}",
    "mission_id": "{live mission}",
    "external_id": "a-m1",
}
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
BAD_AUTHORIZATIONS = st.one_of(
    st.none(),
    st.sampled_from(["{revoked key}", "{disabled partner's key}"]),
    st.sampled_from(["Basic {key}", "Apikey {key}x", "Apikey{key}", "{key}", "Apikey {key} x"]),
    st.from_regex(r"(Apikey|Bearer|apikey|BEARER) Recruitment-[A-Za-z0-9]{32}", fullmatch=True),
    st.builds("{} {}".format, st.sampled_from(["Apikey", "Bearer"]), st.text(PRINTABLE)),
    st.text(PRINTABLE),
)
fuzz_settings = hypothesis.settings(
    max_examples=EXAMPLES or DEFAULT_EXAMPLES,
    derandomize=not EXAMPLES,
    database=None,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


def served_document() -> dict[str, Any]:
    """The document exactly as GET /openapi.json serves it (building it needs no database)."""
    engine = create_engine("sqlite://")
    with TestClient(app=build_litestar(Settings(), engine)) as client:
        document: dict[str, Any] = client.get("/openapi.json").json()
    engine.dispose()
    return document


DOCUMENT = served_document()
with_valid_key = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))
with_bad_key = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))
outside_base_paths = schemathesis.openapi.from_dict(copy.deepcopy(DOCUMENT))


@with_valid_key.hook("flatmap_case")
def swap_values(context: HookContext, case: Case) -> st.SearchStrategy[Case]:
    """Swap generated values for SWAPS: every swappable one in some cases, some in others."""

    @st.composite
    def swapped(draw: st.DrawFn) -> Case:
        every = draw(st.booleans())
        containers = [case.path_parameters, case.query, case.body, case.headers]
        if isinstance(case.body, dict) and isinstance(case.body.get("items"), list):
            containers += case.body["items"]  # a batch's items, as the PUT bodies are
        for container in containers:
            if not isinstance(container, dict):
                continue
            swaps = SWAPS | PATH_SWAPS if container is case.path_parameters else SWAPS
            for name in [name for name in container if name in swaps]:
                if every or draw(st.booleans()):
                    container[name] = draw(st.sampled_from(swaps[name]))
        return case

    return swapped()


@with_bad_key.hook("flatmap_case")
def bad_authorization(context: HookContext, case: Case) -> st.SearchStrategy[Case]:
    def with_header(value: str | None) -> Case:
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        case.headers = headers if value is None else headers | {"Authorization": value}
        return case

    return BAD_AUTHORIZATIONS.map(with_header)


@dataclass
class World:
    """What exists before the fuzzer starts, by placeholder: Alice's records, Bob's, and keys
    that must fail."""

    values: dict[str, str]
    foreign_ids: list[str]

    def resolve(self, case: Case) -> None:
        for container in (case.path_parameters, case.query, case.body, case.headers):
            if isinstance(container, MutableMapping):
                for name, value in container.items():
                    if isinstance(value, str):
                        container[name] = self.fill(value)

    def fill(self, value: str) -> str:
        for placeholder, real in self.values.items():
            value = value.replace(placeholder, real)
        return value


@pytest.fixture
def world(client: TestClient[Any], engine: Engine, alice: Partner, bob: Partner) -> World:
    def etag_of(client: TestClient[Any], path: str) -> str:
        return client.get(path, headers=alice.headers).headers["ETag"]

    company = create_company(client, DOCUMENTED_BASE, alice, external_id="a-1")["id"]
    private = create_mission(client, DOCUMENTED_BASE, alice, company, external_id="a-m1")["id"]
    live = create_mission(client, DOCUMENTED_BASE, alice, company)["id"]
    set_status(engine, live, "live")
    bobs = create_mission(client, DOCUMENTED_BASE, bob, external_id="b-m1")
    client.patch(
        f"{DOCUMENTED_BASE}/companies/{bobs['company_id']}",
        json={"external_id": "b-1"},
        headers=bob.headers,
    )
    carol = make_partner(engine, "Carol Disabled")
    with transaction(engine, write=True) as conn:
        revoked = accounts.issue_key(conn, SECRET, alice.id, "revoked")
        accounts.revoke_key(conn, revoked.id)
        accounts.disable_partner(conn, carol.id)
    return World(
        values={
            "{own company}": company,
            "{foreign company}": bobs["company_id"],
            "{private mission}": private,
            "{live mission}": live,
            "{foreign mission}": bobs["id"],
            "{company cursor}": encode_cursor(company),
            "{mission cursor}": encode_cursor(private),
            "{private mission etag}": etag_of(client, f"{DOCUMENTED_BASE}/missions/{private}"),
            "{own company etag}": etag_of(client, f"{DOCUMENTED_BASE}/companies/{company}"),
            "{revoked key}": f"Apikey {revoked.key}",
            "{disabled partner's key}": f"Bearer {carol.key}",
            "{key}": alice.key,
            EXAMPLE_COMPANY_ID: company,  # the document's example, in the examples phase
        },
        foreign_ids=[bobs["company_id"], bobs["id"]],
    )


def send(
    client: TestClient[Any], case: Case, base: str, authorization: str | None
) -> httpx.Response:
    """The generated request, sent under `base` through the app on this test's database."""
    request = case.as_transport_kwargs(base_url=str(client.base_url))
    url = str(request["url"]).replace(DOCUMENTED_BASE, base, 1)
    headers: dict[str, str | bytes] = {
        # A generated header value that is not ASCII goes as its UTF-8 bytes, as a client would.
        k: v if v.isascii() else v.encode()
        for k, v in request["headers"].items()
        if k.lower() != "authorization"
    }
    if authorization is not None:
        headers["Authorization"] = authorization
    content = request.get("data")
    if "json" in request:
        content = msgspec.json.encode(request["json"])
    return client.request(
        request["method"], url, params=request.get("params"), headers=headers, content=content
    )


def described(response: httpx.Response) -> str:
    request = response.request
    return (
        f"{request.method} {request.url} ({request.headers.get('content-type')}, "
        f"body {request.content[:500]!r}) -> {response.status_code} {response.text[:500]}"
    )


def check_response(case: Case, response: httpx.Response) -> None:
    assert response.status_code < 500, described(response)
    if not 200 <= response.status_code < 300:
        body = response.json()
        assert isinstance(body, dict), described(response)
        assert list(body) == ["error"], described(response)
        assert isinstance(body["error"], str), described(response)
    case.validate_response(response, checks=CHECKS)


@with_valid_key.include(path_regex=f"^{DOCUMENTED_BASE}/").parametrize()
@fuzz_settings
def test_partner_operations_with_a_valid_key_answer_as_documented(
    case: Case, client: TestClient[Any], base: str, alice: Partner, world: World
) -> None:
    if case.meta is not None and case.meta.phase.name != TestPhase.FUZZING:
        # Cases from the document's examples and from schemathesis' coverage phase vary the
        # body and query around fixed path values: point those at a record that exists.
        case.path_parameters = {
            name: OWN_RECORDS.get(name, value) for name, value in case.path_parameters.items()
        }
    world.resolve(case)
    response = send(client, case, base, f"Apikey {alice.key}")
    check_response(case, response)
    sent = str(response.request.url) + response.request.content.decode(errors="replace")
    for id_ in world.foreign_ids:
        assert id_ not in response.text or id_ in sent, described(response)


@with_bad_key.include(path_regex=f"^{DOCUMENTED_BASE}/").parametrize()
@fuzz_settings
def test_partner_operations_with_a_bad_key_answer_401(
    case: Case, client: TestClient[Any], base: str, world: World
) -> None:
    world.resolve(case)
    authorization = (case.headers or {}).get("Authorization")
    response = send(client, case, base, authorization)
    assert response.status_code == 401, described(response)
    assert response.json() == {"error": MISSING_API_KEY}, described(response)
    assert response.headers["www-authenticate"] == AUTHENTICATE


@outside_base_paths.exclude(path_regex="^/partners/").parametrize()
@fuzz_settings
def test_operations_outside_the_base_paths_answer_as_documented(
    case: Case, client: TestClient[Any]
) -> None:
    check_response(case, send(client, case, DOCUMENTED_BASE, None))

"""Transport: request ids, content types, body limits, framework errors, rate limits, headers,
the access log, and what lives outside the base paths (health, OpenAPI, docs)."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import anyio
import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from crosspath.accounts import service as accounts
from crosspath.api.app import create_app
from crosspath.api.logs import JsonLogFormatter
from crosspath.settings import Settings
from crosspath.store.transaction import transaction
from tests.conftest import (
    Partner,
    company_body,
    create_company,
    create_mission,
    error_of,
    mission_body,
)
from tests.contract import AUTHENTICATE, MISSING_API_KEY

MIB = 1024 * 1024
SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
UNSUPPORTED = "Content-Type must be application/json."


def json_headers(partner: Partner, content_type: str = "application/json") -> dict[str, str]:
    return partner.headers | {"Content-Type": content_type}


def company_count(client: TestClient[Any], base: str, partner: Partner) -> int:
    response = client.get(f"{base}/companies", headers=partner.headers)
    assert response.status_code == 200, response.text
    return len(response.json()["data"])


def padded_company(size: int) -> bytes:
    """A valid company body of exactly `size` bytes (whitespace is valid JSON padding)."""
    start, end = b'{"name": "Padded"', b"}"
    return start + b" " * (size - len(start) - len(end)) + end


# Request id


def sample_responses(client: TestClient[Any], base: str, alice: Partner) -> list[httpx.Response]:
    company = create_company(client, base, alice)
    return [
        client.get(f"{base}/companies", headers=alice.headers),
        client.get(f"{base}/companies/{company['id']}", headers=alice.headers),
        client.post(f"{base}/companies", json=company_body(), headers=alice.headers),
        client.post(f"{base}/companies", json={"name": ""}, headers=alice.headers),
        client.get(f"{base}/companies"),
        client.get(f"{base}/no-such-route", headers=alice.headers),
        client.get(f"{base}/companies/cmp_unknown", headers=alice.headers),
        client.delete(f"{base}/companies", headers=alice.headers),
        client.post(f"{base}/companies", content=b"{}", headers=alice.headers),
        client.post(f"{base}/companies", content=b"{", headers=json_headers(alice)),
        client.post(f"{base}/companies", content=padded_company(MIB + 1), headers=alice.headers),
        client.get("/healthz"),
        client.get("/readyz"),
        client.get("/openapi.json"),
        client.get("/docs"),
        client.get("/no-such-page"),
    ]


def test_every_response_carries_a_fresh_request_id(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    responses = sample_responses(client, base, alice)
    responses.append(client.get(f"{base}/companies", headers=bob.headers))
    statuses = {response.status_code for response in responses}
    assert {200, 201, 400, 401, 404, 405, 413, 415} <= statuses
    ids = [response.headers["X-Request-Id"] for response in responses]
    assert all(SANE_ID.match(request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("request_id", ["a", "abc-123", "A.b_c:d-0", "x" * 128, "01J9Z7..::__--"])
def test_it_echoes_a_sane_request_id(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, request_id: str
) -> None:
    headers = {"X-Request-Id": request_id}
    for response in (
        client.get(f"{base}/companies", headers=alice.headers | headers),
        client.get(f"{base}/companies", headers=bob.headers | headers),
        client.get(f"{base}/companies", headers=headers),
        client.get(f"{base}/nowhere", headers=alice.headers | headers),
        client.post(f"{base}/companies", content=b"x", headers=bob.headers | headers),
        client.get("/healthz", headers=headers),
    ):
        assert response.headers["X-Request-Id"] == request_id


@pytest.mark.parametrize(
    "request_id", ["x" * 129, "x" * 1000, "has space", " padded ", "a/b", "a;b", "a,b", "é", "ü"]
)
def test_it_replaces_an_insane_request_id(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, request_id: str
) -> None:
    headers = {"X-Request-Id": request_id.encode()}
    for response in (
        client.get(f"{base}/companies", headers=alice.headers | headers),
        client.get(f"{base}/companies", headers=bob.headers | headers),
        client.get(f"{base}/companies", headers=headers),
        client.get("/healthz", headers=headers),
    ):
        echoed = response.headers["X-Request-Id"]
        assert echoed != request_id
        assert echoed != request_id.strip()
        assert SANE_ID.match(echoed)


def test_an_empty_request_id_is_replaced(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    for partner in (alice, bob):
        response = client.get(f"{base}/companies", headers=partner.headers | {"X-Request-Id": ""})
        assert SANE_ID.match(response.headers["X-Request-Id"])


# Content type


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/merge-patch+json",
        "application/json-patch+json",
        "application/jsonx",
        "text/json",
        "",
    ],
)
def test_post_refuses_a_body_that_is_not_declared_as_json(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, content_type: str | None
) -> None:
    company = create_company(client, base, bob)
    headers = dict(alice.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    body = json.dumps(company_body()).encode()
    response = client.post(f"{base}/companies", content=body, headers=headers)
    assert response.status_code == 415
    assert error_of(response) == UNSUPPORTED
    mission = json.dumps(mission_body(company["id"])).encode()
    response = client.post(f"{base}/missions", content=mission, headers=headers)
    assert response.status_code == 415
    assert error_of(response) == UNSUPPORTED
    assert company_count(client, base, alice) == 0
    assert company_count(client, base, bob) == 1


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/json-patch+json", "application/xml", ""]
)
def test_patch_refuses_a_body_that_is_not_declared_as_json(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, content_type: str | None
) -> None:
    mission = create_mission(client, base, alice)
    headers = dict(alice.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    for url in (f"{base}/companies/{mission['company_id']}", f"{base}/missions/{mission['id']}"):
        response = client.patch(url, content=b'{"title": "Changed", "name": "X"}', headers=headers)
        assert response.status_code == 415
        assert error_of(response) == UNSUPPORTED
    response = client.get(f"{base}/missions/{mission['id']}", headers=alice.headers)
    assert response.json() == mission
    assert company_count(client, base, bob) == 0


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8",
     "Application/JSON"],
)  # fmt: skip
def test_post_accepts_json_with_or_without_a_charset(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, content_type: str
) -> None:
    body = json.dumps(company_body(name="Charset Co")).encode()
    response = client.post(
        f"{base}/companies", content=body, headers=json_headers(alice, content_type)
    )
    assert response.status_code == 201, response.text
    mission = json.dumps(mission_body(response.json()["id"])).encode()
    response = client.post(
        f"{base}/missions", content=mission, headers=json_headers(alice, content_type)
    )
    assert response.status_code == 201, response.text
    assert company_count(client, base, alice) == 1
    assert company_count(client, base, bob) == 0


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/merge-patch+json",
     "application/merge-patch+json; charset=utf-8"],
)  # fmt: skip
def test_patch_accepts_json_and_merge_patch_json(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, content_type: str
) -> None:
    mission = create_mission(client, base, alice)
    headers = json_headers(alice, content_type)
    response = client.patch(
        f"{base}/companies/{mission['company_id']}", content=b'{"name": "Renamed"}', headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Renamed"
    response = client.patch(
        f"{base}/missions/{mission['id']}", content=b'{"title": "Retitled"}', headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Retitled"
    assert company_count(client, base, bob) == 0


def test_a_wrong_content_type_is_reported_before_a_malformed_body_or_a_missing_record(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    bobs = create_mission(client, base, bob)
    text = json_headers(alice, "text/plain")
    for method, url in (
        ("POST", f"{base}/companies"),
        ("PATCH", f"{base}/companies/cmp_unknown"),
        ("PATCH", f"{base}/companies/{bobs['company_id']}"),
        ("PATCH", f"{base}/missions/{bobs['id']}"),
    ):
        response = client.request(method, url, content=b"{not json", headers=text)
        assert response.status_code == 415, url
        assert error_of(response) == UNSUPPORTED


def test_a_malformed_body_is_reported_before_a_missing_record(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    bobs = create_mission(client, base, bob)
    for url in (
        f"{base}/companies/cmp_unknown",
        f"{base}/companies/{bobs['company_id']}",
        f"{base}/missions/{bobs['id']}",
    ):
        for content in (b"{not json", b"[]"):
            response = client.patch(url, content=content, headers=json_headers(alice))
            assert response.status_code == 400, url
            error_of(response)


# JSON syntax


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"{'name': 'x'}",
        b'{"name": "x",}',
        b'{"name": "x"} {"name": "y"}',
        b'{"name": "x"} trailing',
        b'{"name": NaN}',
        b'{name: "x"}',
        b'{"name": "\xff\xfe"}',
        b'{"name": "ok\xc3"}',
        b'\xef\xbb\xbf{"name": "BOM"}',
        b"\xff{}",
    ],
)
def test_it_refuses_a_body_that_is_not_valid_json(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, content: bytes
) -> None:
    mission = create_mission(client, base, bob)
    for method, url in (
        ("POST", f"{base}/companies"),
        ("POST", f"{base}/missions"),
        ("PATCH", f"{base}/companies/{mission['company_id']}"),
        ("PATCH", f"{base}/missions/{mission['id']}"),
    ):
        headers = json_headers(bob if method == "PATCH" else alice)
        response = client.request(method, url, content=content, headers=headers)
        assert response.status_code == 400, (url, response.text)
        assert "JSON" in error_of(response)
    assert company_count(client, base, alice) == 0
    response = client.get(f"{base}/missions/{mission['id']}", headers=bob.headers)
    assert response.json() == mission


@pytest.mark.parametrize(
    "content", [b"[]", b'[{"name": "x"}]', b'"x"', b"42", b"1.5", b"null", b"true"]
)
def test_it_refuses_json_that_is_not_an_object(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, content: bytes
) -> None:
    mission = create_mission(client, base, bob)
    for method, url, partner in (
        ("POST", f"{base}/companies", alice),
        ("POST", f"{base}/missions", alice),
        ("PATCH", f"{base}/companies/{mission['company_id']}", bob),
        ("PATCH", f"{base}/missions/{mission['id']}", bob),
    ):
        response = client.request(method, url, content=content, headers=json_headers(partner))
        assert response.status_code == 400, (url, response.text)
        assert "object" in error_of(response)
    assert company_count(client, base, alice) == 0
    assert company_count(client, base, bob) == 1


# Body size


def test_it_refuses_a_body_over_one_mebibyte(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, bob)
    body = padded_company(MIB + 1)
    for method, url, partner in (
        ("POST", f"{base}/companies", alice),
        ("POST", f"{base}/missions", alice),
        ("PATCH", f"{base}/companies/{mission['company_id']}", bob),
        ("PATCH", f"{base}/missions/{mission['id']}", bob),
    ):
        response = client.request(method, url, content=body, headers=json_headers(partner))
        assert response.request.headers["Content-Length"] == str(MIB + 1)
        assert response.status_code == 413, url
        assert "1 MiB" in error_of(response)
    assert company_count(client, base, alice) == 0
    assert company_count(client, base, bob) == 1


def test_it_refuses_a_streamed_body_over_one_mebibyte(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "Streamed"'
        for _ in range(17):
            yield b" " * 65536
        yield b"}"

    request = client.build_request(
        "POST", f"{base}/companies", content=chunks(), headers=json_headers(alice)
    )
    assert "content-length" not in request.headers
    response = client.send(request)
    assert response.status_code == 413
    assert "1 MiB" in error_of(response)
    assert company_count(client, base, alice) == 0
    assert company_count(client, base, bob) == 0


def test_it_accepts_a_body_of_exactly_one_mebibyte(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    response = client.post(
        f"{base}/companies", content=padded_company(MIB), headers=json_headers(alice)
    )
    assert response.status_code == 201, response.text[:200]
    assert company_count(client, base, alice) == 1
    assert company_count(client, base, bob) == 0


def test_an_oversized_body_may_be_refused_before_the_key_is_checked(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    """The contract allows 413 before 401, so that a huge body is never read."""
    response = client.post(
        f"{base}/companies",
        content=padded_company(MIB + 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert "1 MiB" in error_of(response)
    assert company_count(client, base, alice) == 0
    assert company_count(client, base, bob) == 0


# Unknown routes and methods


@pytest.mark.parametrize(
    "path",
    ["", "/", "/nowhere", "/companies/cmp_x/missions", "/references/sectors/extra", "/Companies"],
)
def test_an_unknown_route_is_404_with_one_key(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, path: str
) -> None:
    for partner in (alice, bob):
        response = client.get(base + path, headers=partner.headers)
        assert response.status_code == 404, path
        error_of(response)
        assert "WWW-Authenticate" not in response.headers


def test_an_unknown_route_outside_the_base_paths_is_404_with_one_key(
    client: TestClient[Any], alice: Partner
) -> None:
    # "/" is the partner portal's front page.
    for path in ("/nowhere", "/partners", "/partners/v2/companies", "/static/nowhere.css"):
        response = client.get(path, headers=alice.headers)
        assert response.status_code == 404, path
        error_of(response)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/companies", {"GET", "POST"}),
        ("PUT", "/companies", {"GET", "POST"}),
        ("PATCH", "/companies", {"GET", "POST"}),
        ("DELETE", "/companies/{company}", {"GET", "PATCH"}),
        ("PUT", "/companies/{company}", {"GET", "PATCH"}),
        ("POST", "/companies/{company}", {"GET", "PATCH"}),
        ("DELETE", "/missions", {"GET", "POST"}),
        ("PUT", "/missions/{mission}", {"GET", "PATCH", "DELETE"}),
        ("POST", "/missions/{mission}", {"GET", "PATCH", "DELETE"}),
        ("POST", "/references", {"GET"}),
        ("PATCH", "/references/sectors", {"GET"}),
    ],
)
def test_a_wrong_method_is_405_with_an_allow_header(
    client: TestClient[Any],
    base: str,
    alice: Partner,
    bob: Partner,
    method: str,
    path: str,
    allowed: set[str],
) -> None:
    mission = create_mission(client, base, alice)
    url = base + path.format(company=mission["company_id"], mission=mission["id"])
    for partner in (alice, bob):
        response = client.request(method, url, json={}, headers=partner.headers)
        assert response.status_code == 405, response.text
        assert method in error_of(response)
        listed = {word.strip() for word in response.headers["Allow"].split(",")}
        assert allowed <= listed
        assert method not in listed
    response = client.get(f"{base}/missions/{mission['id']}", headers=alice.headers)
    assert response.json() == mission


# Rate limits


@pytest.fixture
def small_limit(settings: Settings, engine: Engine) -> Iterator[TestClient[Any]]:
    limited = dataclasses.replace(settings, rate_limit=3, rate_limit_window=10)
    with TestClient(app=create_app(limited, engine)) as client:
        yield client


def rate_headers(response: httpx.Response) -> tuple[int, int, int]:
    return (
        int(response.headers["RateLimit-Limit"]),
        int(response.headers["RateLimit-Remaining"]),
        int(response.headers["RateLimit-Reset"]),
    )


def assert_rate_limited(response: httpx.Response) -> None:
    """A 429 from the app with 3 requests in any 10 seconds."""
    assert response.status_code == 429, response.text
    assert "Too many requests" in error_of(response)
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    assert 1 <= int(retry_after) <= 10
    limit, remaining, reset = rate_headers(response)
    assert (limit, remaining) == (3, 0)
    assert 1 <= reset <= 10


def test_the_fourth_request_in_the_window_is_429(
    small_limit: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    remaining = []
    for _ in range(3):
        response = small_limit.get(f"{base}/companies", headers=alice.headers)
        assert response.status_code == 200
        limit, left, reset = rate_headers(response)
        assert limit == 3
        assert 1 <= reset <= 10
        remaining.append(left)
    assert remaining == [2, 1, 0]
    response = small_limit.get(f"{base}/companies", headers=alice.headers)
    assert_rate_limited(response)
    assert response.headers["X-Request-Id"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert_rate_limited(small_limit.get(f"{base}/references", headers=alice.headers))
    response = small_limit.get(f"{base}/companies", headers=bob.headers)
    assert response.status_code == 200


def test_limits_are_per_key(
    small_limit: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    for _ in range(3):
        assert small_limit.get(f"{base}/companies", headers=alice.headers).status_code == 200
    assert_rate_limited(small_limit.get(f"{base}/companies", headers=alice.headers))
    for expected in (2, 1, 0):
        response = small_limit.get(f"{base}/companies", headers=bob.headers)
        assert response.status_code == 200
        assert rate_headers(response)[1] == expected
    assert_rate_limited(small_limit.get(f"{base}/companies", headers=bob.headers))


def test_both_base_paths_share_one_budget_per_key(
    small_limit: TestClient[Any], alice: Partner, bob: Partner
) -> None:
    assert small_limit.get("/partners/v1/companies", headers=alice.headers).status_code == 200
    assert (
        small_limit.get("/partners/hunteron/v1/companies", headers=alice.headers).status_code == 200
    )
    assert small_limit.get("/partners/v1/references", headers=alice.headers).status_code == 200
    assert_rate_limited(small_limit.get("/partners/hunteron/v1/companies", headers=alice.headers))
    assert_rate_limited(small_limit.get("/partners/v1/companies", headers=alice.headers))
    assert (
        small_limit.get("/partners/hunteron/v1/companies", headers=bob.headers).status_code == 200
    )


def test_every_authenticated_response_counts_and_carries_the_rate_headers(
    small_limit: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    responses = [
        small_limit.get(f"{base}/nowhere", headers=alice.headers),
        small_limit.delete(f"{base}/companies", headers=alice.headers),
        small_limit.post(f"{base}/companies", content=b"{}", headers=alice.headers),
    ]
    assert [response.status_code for response in responses] == [404, 405, 415]
    assert [rate_headers(response)[:2] for response in responses] == [(3, 2), (3, 1), (3, 0)]
    assert_rate_limited(small_limit.get(f"{base}/companies", headers=alice.headers))
    assert small_limit.get(f"{base}/companies", headers=bob.headers).status_code == 200


def test_429_comes_after_401_and_before_everything_else(
    small_limit: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    for _ in range(3):
        assert small_limit.get(f"{base}/companies", headers=alice.headers).status_code == 200
    response = small_limit.get(f"{base}/companies", headers={"Authorization": "Basic x"})
    assert response.status_code == 401
    for method, path, kwargs in (
        ("GET", "/nowhere", {}),
        ("DELETE", "/companies", {}),
        ("POST", "/companies", {"content": b"{}"}),
        ("POST", "/companies", {"content": b"{", "headers": {"Content-Type": "application/json"}}),
        ("POST", "/companies", {"json": {"name": ""}}),
        ("PATCH", "/missions/msn_unknown", {"json": {}}),
    ):
        headers = alice.headers | kwargs.pop("headers", {})
        assert_rate_limited(small_limit.request(method, base + path, headers=headers, **kwargs))
    assert small_limit.get(f"{base}/companies", headers=bob.headers).status_code == 200


def test_refused_requests_do_not_use_up_the_budget(
    small_limit: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    for _ in range(3):
        assert small_limit.get(f"{base}/companies", headers=alice.headers).status_code == 200
    for _ in range(5):
        assert_rate_limited(small_limit.get(f"{base}/companies", headers=alice.headers))
        assert small_limit.get(f"{base}/companies").status_code == 401
    response = small_limit.get(f"{base}/companies", headers=bob.headers)
    assert rate_headers(response)[1] == 2


def test_the_window_slides(
    settings: Settings, engine: Engine, alice: Partner, bob: Partner
) -> None:
    limited = dataclasses.replace(settings, rate_limit=2, rate_limit_window=1)
    with TestClient(app=create_app(limited, engine)) as client:
        for _ in range(2):
            assert client.get("/partners/v1/companies", headers=alice.headers).status_code == 200
        response = client.get("/partners/v1/companies", headers=alice.headers)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "1"
        time.sleep(1.05)
        response = client.get("/partners/v1/companies", headers=alice.headers)
        assert response.status_code == 200
        assert client.get("/partners/v1/companies", headers=bob.headers).status_code == 200


# Security headers


def test_every_response_says_nosniff(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    responses = sample_responses(client, base, alice)
    responses.append(client.get("/static/swagger-ui/init.js"))
    responses.append(client.get(f"{base}/companies", headers=bob.headers))
    for response in responses:
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.url


def test_partner_responses_are_never_cached_but_the_reference_sets(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    responses = [
        client.get(f"{base}/companies", headers=alice.headers),
        client.get(f"{base}/missions/{mission['id']}", headers=alice.headers),
        client.get(f"{base}/missions/{mission['id']}", headers=bob.headers),
        client.patch(
            f"{base}/missions/{mission['id']}", json={"title": "T"}, headers=alice.headers
        ),
        client.post(f"{base}/companies", json=company_body(), headers=bob.headers),
        client.get(f"{base}/nowhere", headers=bob.headers),
        client.get(f"{base}/companies"),
        client.get(f"{base}/references"),  # no key: the 401 is not cached either
    ]
    assert {response.status_code for response in responses} == {200, 201, 401, 404}
    for response in responses:
        assert response.headers.get_list("Cache-Control") == ["no-store"], response.url
    for path in ("/references", "/references/sectors"):
        cached = client.get(f"{base}{path}", headers=bob.headers)
        assert cached.headers.get_list("Cache-Control") == ["private, max-age=300"]


# Access log


class Records(logging.Handler):
    """The service's log records; the test client's own (httpx) are not the service's log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] not in ("httpx", "httpcore"):
            self.records.append(record)

    def lines(self, logger: str | None = None) -> list[str]:
        formatter = JsonLogFormatter()
        return [
            formatter.format(record)
            for record in self.records
            if logger is None or record.name == logger
        ]


@pytest.fixture
def logged(client: TestClient[Any]) -> Iterator[Records]:
    """Every record from every logger, attached after the app configured logging."""
    handler = Records()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def test_it_logs_one_json_line_per_request(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner, logged: Records
) -> None:
    calls = [
        ("POST", f"{base}/companies", alice.headers, 201, alice.id),
        ("GET", f"{base}/companies", bob.headers, 200, bob.id),
        ("GET", f"{base}/companies", {}, 401, None),
        ("GET", f"{base}/nowhere", alice.headers, 404, alice.id),
        ("GET", "/healthz", {}, 200, None),
    ]
    for number, (method, url, headers, status, _) in enumerate(calls):
        request_id = f"trace-{number}"
        json_body = company_body() if method == "POST" else None
        response = client.request(
            method, url, json=json_body, headers=headers | {"X-Request-Id": request_id}
        )
        assert response.status_code == status
    lines = logged.lines("crosspath.access")
    assert len(lines) == len(calls)
    for number, (line, (method, url, _, status, partner_id)) in enumerate(
        zip(lines, calls, strict=True)
    ):
        assert "\n" not in line
        entry = json.loads(line)
        assert entry["request_id"] == f"trace-{number}"
        assert entry["partner_id"] == partner_id
        assert entry["method"] == method
        assert entry["path"] == url
        assert entry["status"] == status
        assert isinstance(entry["duration_ms"], int | float)
        assert entry["duration_ms"] >= 0


def test_the_access_log_records_the_status_of_refusals(
    small_limit: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    handler = Records()
    logging.getLogger("crosspath.access").addHandler(handler)
    try:
        for _ in range(4):
            small_limit.get(f"{base}/companies", headers=alice.headers)
        small_limit.post(f"{base}/companies", content=padded_company(MIB + 1), headers=bob.headers)
    finally:
        logging.getLogger("crosspath.access").removeHandler(handler)
    entries = [json.loads(line) for line in handler.lines()]
    assert [entry["status"] for entry in entries] == [200, 200, 200, 429, 413]
    assert [entry["partner_id"] for entry in entries[:4]] == [alice.id] * 4


def test_a_key_never_reaches_the_log(
    client: TestClient[Any],
    base: str,
    alice: Partner,
    bob: Partner,
    logged: Records,
    engine: Engine,
) -> None:
    create_company(client, base, alice)
    secrets_ = [alice.key, bob.key]
    client.get(f"{base}/companies", headers={"Authorization": f"Bearer {bob.key}"})
    client.get(f"{base}/companies", headers={"Authorization": f"Basic {alice.key}"})
    client.get(f"{base}/companies", headers={"Authorization": f"Apikey {alice.key}x"})
    client.get(f"{base}/companies?api_key={bob.key}", headers=alice.headers)
    client.post(
        f"{base}/companies", json={"name": alice.key, "bogus": bob.key}, headers=bob.headers
    )
    client.post(f"{base}/companies", content=alice.key.encode(), headers=json_headers(bob))
    with transaction(engine, write=True) as conn:
        accounts.revoke_key(conn, alice.key_id)
    client.get(f"{base}/companies", headers=alice.headers)
    lines = logged.lines()
    assert len(logged.lines("crosspath.access")) == 8
    assert {record.name for record in logged.records} >= {"crosspath.access"}
    text = "\n".join(lines) + "\n".join(repr(vars(record)) for record in logged.records)
    for key in secrets_:
        assert key.removeprefix("Recruitment-") not in text


# Outside the base paths


def test_health_and_readiness_need_no_key(client: TestClient[Any], alice: Partner) -> None:
    for path in ("/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200
        assert isinstance(response.json(), dict)
        assert client.get(path, headers={"Authorization": "Basic x"}).status_code == 200
        assert client.get(path, headers=alice.headers).status_code == 200


@pytest.fixture
def document(client: TestClient[Any]) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    result: dict[str, Any] = response.json()
    return result


PARTNER_PATHS = [
    "/partners/v1/companies",
    "/partners/v1/companies/{company_id}",
    "/partners/v1/missions",
    "/partners/v1/missions/{mission_id}",
    "/partners/v1/references",
    "/partners/v1/references/{kind}",
]


def test_the_openapi_document_is_3_1_and_lists_the_partner_paths(
    document: dict[str, Any], alice: Partner
) -> None:
    assert re.fullmatch(r"3\.1\.\d+", document["openapi"])
    assert document["info"]["title"]
    assert set(PARTNER_PATHS) <= set(document["paths"])
    operations = {(method, path) for path in PARTNER_PATHS for method in document["paths"][path]}
    assert {
        ("post", "/partners/v1/companies"),
        ("get", "/partners/v1/companies"),
        ("get", "/partners/v1/companies/{company_id}"),
        ("patch", "/partners/v1/companies/{company_id}"),
        ("post", "/partners/v1/missions"),
        ("get", "/partners/v1/missions"),
        ("get", "/partners/v1/missions/{mission_id}"),
        ("patch", "/partners/v1/missions/{mission_id}"),
        ("get", "/partners/v1/references"),
        ("get", "/partners/v1/references/{kind}"),
        ("delete", "/partners/v1/missions/{mission_id}"),
    } <= operations
    paths = document["paths"]
    for method, path in [
        ("put", "/partners/v1/companies/by-external-id/{external_id}"),
        ("put", "/partners/v1/missions/by-external-id/{external_id}"),
        ("post", "/partners/v1/companies/batch"),
        ("post", "/partners/v1/missions/batch"),
    ]:
        assert method in paths[path], (method, path)


MISSION_REQUIRED = {"company_id", "title", "description", "position", "location"}


@pytest.mark.parametrize(
    ("method", "path", "fields", "required"),
    [
        ("post", "/partners/v1/companies", {"name", "external_id", "website", "sector"}, {"name"}),
        (
            "patch",
            "/partners/v1/companies/{company_id}",
            {"name", "external_id", "location"},
            set(),
        ),
        (
            "post",
            "/partners/v1/missions",
            MISSION_REQUIRED | {"salary", "languages", "company_external_id"},
            MISSION_REQUIRED - {"company_id"},  # or company_external_id: exactly one
        ),
        (
            "put",
            "/partners/v1/missions/by-external-id/{external_id}",
            MISSION_REQUIRED | {"status", "external_id", "company_external_id"},
            MISSION_REQUIRED - {"company_id"},
        ),
        (
            "put",
            "/partners/v1/companies/by-external-id/{external_id}",
            {"name", "external_id", "website"},
            {"name"},
        ),
        ("post", "/partners/v1/missions/batch", {"items"}, {"items"}),
        ("post", "/partners/v1/companies/batch", {"items"}, {"items"}),
        ("patch", "/partners/v1/missions/{mission_id}", {"title", "status", "languages"}, set()),
    ],
)
def test_the_openapi_document_describes_the_request_bodies(
    document: dict[str, Any],
    alice: Partner,
    method: str,
    path: str,
    fields: set[str],
    required: set[str],
) -> None:
    body = document["paths"][path][method]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    assert schema["type"] == "object"
    assert fields <= set(schema["properties"])
    assert set(schema.get("required", [])) == required


def test_the_openapi_document_does_not_offer_status_on_mission_create(
    document: dict[str, Any], alice: Partner
) -> None:
    body = document["paths"]["/partners/v1/missions"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert "title" in schema["properties"]
    assert "status" not in schema["properties"]


def test_the_openapi_document_documents_the_api_key(
    document: dict[str, Any], alice: Partner
) -> None:
    scheme = document["components"]["securitySchemes"]["Apikey"]
    assert scheme["type"] == "apiKey"
    assert scheme["in"] == "header"
    assert scheme["name"] == "Authorization"
    for path in PARTNER_PATHS:
        for method, operation in document["paths"][path].items():
            assert operation["security"] == [{"Apikey": []}], (method, path)
            assert "401" in operation["responses"], (method, path)
    assert "security" not in document["paths"]["/healthz"]["get"]


class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"] or "")


def test_the_docs_page_loads_only_local_assets(client: TestClient[Any], alice: Partner) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    parser = Assets()
    parser.feed(response.text)
    assert any(url.endswith(".js") for url in parser.urls)
    assert any(url.endswith(".css") for url in parser.urls)
    assert "http://" not in response.text
    assert "https://" not in response.text
    for url in parser.urls:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.content


def test_the_docs_page_reads_the_local_document(client: TestClient[Any], alice: Partner) -> None:
    parser = Assets()
    parser.feed(client.get("/docs").text)
    scripts = [client.get(url).text for url in parser.urls if url.endswith(".js")]
    assert any('"/openapi.json"' in script for script in scripts)


# Timestamps and ids


def assert_timestamps(record: dict[str, Any]) -> None:
    for field in ("created_at", "updated_at"):
        assert TIMESTAMP.match(record[field]), (field, record[field])


def test_responses_carry_utc_timestamps_with_microseconds(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    company = client.get(f"{base}/companies/{mission['company_id']}", headers=alice.headers).json()
    records = [mission, company]
    records += client.get(f"{base}/companies", headers=alice.headers).json()["data"]
    records += client.get(f"{base}/missions", headers=alice.headers).json()["data"]
    records.append(
        client.patch(
            f"{base}/missions/{mission['id']}", json={"title": "T"}, headers=alice.headers
        ).json()
    )
    records.append(
        client.patch(
            f"{base}/companies/{company['id']}", json={"name": "N"}, headers=alice.headers
        ).json()
    )
    records.append(create_company(client, base, bob))
    for record in records:
        assert_timestamps(record)


def test_ids_are_prefixed_opaque_and_time_ordered(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    companies = [create_company(client, base, partner) for partner in (alice, bob, alice, bob)]
    missions = [
        create_mission(client, base, partner, company["id"])
        for partner, company in zip((alice, bob, alice, bob), companies, strict=True)
    ]
    for prefix, records in (("cmp_", companies), ("msn_", missions)):
        ids = [record["id"] for record in records]
        for record_id in ids:
            assert isinstance(record_id, str)
            assert record_id.startswith(prefix)
            assert not record_id.removeprefix(prefix).isdigit()
        assert ids == sorted(ids)
        assert len(set(ids)) == len(ids)
    assert {mission["company_id"] for mission in missions} == {c["id"] for c in companies}


def test_created_records_have_a_location_under_the_base_path_used(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    mission = create_mission(client, base, alice)
    response = client.post(f"{base}/companies", json=company_body(), headers=bob.headers)
    assert response.headers["Location"] == f"{base}/companies/{response.json()['id']}"
    response = client.post(
        f"{base}/missions", json=mission_body(mission["company_id"]), headers=alice.headers
    )
    location = response.headers["Location"]
    assert location == f"{base}/missions/{response.json()['id']}"
    assert client.get(location, headers=alice.headers).json() == response.json()


@pytest.mark.parametrize(
    ("path", "names"),
    [
        ("/partners/v1/companies", ["limit", "cursor", "external_id", "updated_since"]),
        (
            "/partners/v1/missions",
            ["limit", "cursor", "external_id", "updated_since", "company_id", "status"],
        ),
    ],
)
def test_the_openapi_document_lists_the_query_parameters_of_each_list(
    document: dict[str, Any], alice: Partner, path: str, names: list[str]
) -> None:
    parameters = document["paths"][path]["get"]["parameters"]
    assert [p["name"] for p in parameters] == names
    assert all(p["in"] == "query" and p["required"] is False for p in parameters)
    limit = parameters[0]["schema"]
    assert (limit["type"], limit["minimum"], limit["maximum"]) == ("integer", 1, 100)


def test_a_content_length_that_is_not_ascii_digits_is_no_server_error(
    settings: Settings, engine: Engine, alice: Partner
) -> None:
    import asyncio

    app = create_app(settings, engine)
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/partners/v1/companies",
        "raw_path": b"/partners/v1/companies",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "server": ("testserver", 80),
        "headers": [(b"content-length", "²".encode()), (b"authorization", b"Apikey nope")],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 401
    assert json.loads(sent[1]["body"]) == {"error": MISSING_API_KEY}


# Deeply nested bodies


def nested(depth: int) -> bytes:
    """A company body with an unknown field `x` holding arrays nested `depth` deep."""
    return b'{"name": "n", "x": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [1_000, 10_000])
def test_a_deeply_nested_body_is_a_400_on_every_partner_write(
    client: TestClient[Any], base: str, alice: Partner, depth: int
) -> None:
    mission = create_mission(client, base, alice)
    before = company_count(client, base, alice)
    writes = [
        ("POST", f"{base}/companies"),
        ("PATCH", f"{base}/companies/{mission['company_id']}"),
        ("POST", f"{base}/missions"),
        ("PATCH", f"{base}/missions/{mission['id']}"),
    ]
    for method, url in writes:
        response = client.request(method, url, content=nested(depth), headers=json_headers(alice))
        assert response.status_code == 400, (method, url, response.text)
        assert "nested more than 64 levels" in error_of(response)
    assert company_count(client, base, alice) == before
    assert client.get(f"{base}/missions/{mission['id']}", headers=alice.headers).json() == mission


@pytest.mark.parametrize("depth", [1_000, 10_000])
def test_a_deeply_nested_access_request_is_a_400_without_a_key(
    client: TestClient[Any], depth: int
) -> None:
    response = client.post(
        "/access-requests", content=nested(depth), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert "nested more than 64 levels" in error_of(response)


def test_a_body_at_the_depth_limit_is_judged_on_its_fields(
    client: TestClient[Any], base: str, alice: Partner
) -> None:
    response = client.post(f"{base}/companies", content=nested(63), headers=json_headers(alice))
    assert response.status_code == 400, response.text
    message = error_of(response)
    assert "nested" not in message
    assert "x" in message


def test_brackets_inside_strings_are_not_nesting(
    client: TestClient[Any], base: str, alice: Partner
) -> None:
    name = '[{"' * 60 + "\\"  # quotes and a backslash, escaped in JSON, must not end the string
    description = "[[[[{{{{" * 100 + "]}" * 10
    body = company_body(name=name, description=description)
    response = client.post(
        f"{base}/companies", content=json.dumps(body).encode(), headers=json_headers(alice)
    )
    assert response.status_code == 201, response.text
    company = response.json()
    assert company["name"] == name
    assert company["description"] == description
    patched = client.patch(
        f"{base}/companies/{company['id']}",
        content=json.dumps({"description": "{" * 500}).encode(),
        headers=json_headers(alice),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["description"] == "{" * 500


# Several Authorization headers


UNAUTHORIZED = {"error": MISSING_API_KEY}


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"] == AUTHENTICATE


def send_raw_headers(app: Any, method: str, url: str, headers: list[tuple[str, str]]) -> Any:
    """A request whose headers reach the app line by line, duplicates kept (the TestClient
    joins repeated headers into one)."""

    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            return await http.request(method, url, headers=headers, json=company_body())

    return anyio.run(send)


def test_two_authorization_headers_are_refused_even_when_both_keys_are_valid(
    client: TestClient[Any], settings: Settings, engine: Engine, base: str, alice: Partner,
    bob: Partner,
) -> None:  # fmt: skip
    company = create_company(client, base, bob)
    a, b = alice.headers["Authorization"], bob.headers["Authorization"]
    app = create_app(settings, engine)
    for pair in ([a, b], [b, a], [a, a]):
        lines = [("Authorization", value) for value in pair]
        for method, path in (("GET", "/companies"), ("GET", f"/companies/{company['id']}"),
                             ("POST", "/companies"), ("HEAD", "/companies")):  # fmt: skip
            response = send_raw_headers(app, method, base + path, lines)
            assert response.status_code == 401, (pair, method, path, response.text)
            assert response.headers["WWW-Authenticate"] == AUTHENTICATE
            if method != "HEAD":
                assert response.json() == UNAUTHORIZED
        assert_unauthorized(client.get(f"{base}/companies", headers=lines))
    assert company_count(client, base, alice) == 0
    assert company_count(client, base, bob) == 1


# OPTIONS and HEAD


READ_ONLY = {"GET", "HEAD", "OPTIONS"}
ROUTE_METHODS = [
    ("/companies", READ_ONLY | {"POST"}),
    ("/companies/{company}", READ_ONLY | {"PATCH"}),
    ("/missions", READ_ONLY | {"POST"}),
    ("/missions/{mission}", READ_ONLY | {"PATCH", "DELETE"}),
    ("/references", READ_ONLY),
    ("/references/sectors", READ_ONLY),
]


def allow_of(response: httpx.Response) -> set[str]:
    return {word.strip() for word in response.headers["Allow"].split(",")}


@pytest.mark.parametrize(("path", "methods"), ROUTE_METHODS)
def test_options_lists_every_method_the_path_serves_as_a_405_does(
    client: TestClient[Any], base: str, alice: Partner, path: str, methods: set[str]
) -> None:
    mission = create_mission(client, base, alice)
    url = base + path.format(company=mission["company_id"], mission=mission["id"])
    response = client.options(url, headers=alice.headers)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert allow_of(response) == methods
    assert response.headers["Cache-Control"] == "no-store"
    assert "RateLimit-Remaining" in response.headers
    refused = client.request("TRACE", url, headers=alice.headers)
    assert refused.status_code == 405, refused.text
    assert allow_of(refused) == methods
    assert "TRACE is not allowed" in error_of(refused)


def test_options_under_a_base_path_needs_the_key(
    client: TestClient[Any], base: str, alice: Partner, bob: Partner
) -> None:
    """The API serves no browser from another origin (no CORS), so OPTIONS is an ordinary
    request: under a base path it needs a valid key, 401 first like every other method (the
    contract's "401 whatever else"). With any valid key it lists the methods of the path, which
    depend on the route alone: another partner's record gives the same answer and reveals
    nothing."""
    company = create_company(client, base, alice)
    for path in ("/companies", f"/companies/{company['id']}", "/references", "/no-such-route"):
        assert_unauthorized(client.options(base + path))
        assert_unauthorized(client.options(base + path, headers={"Authorization": "Apikey x"}))
    mine = client.options(f"{base}/companies/{company['id']}", headers=alice.headers)
    theirs = client.options(f"{base}/companies/{company['id']}", headers=bob.headers)
    assert (mine.status_code, theirs.status_code) == (204, 204)
    assert mine.headers["Allow"] == theirs.headers["Allow"]
    unknown = client.options(f"{base}/no-such-route", headers=alice.headers)
    assert unknown.status_code == 404
    assert error_of(unknown) == f"There is no endpoint at {base}/no-such-route."


def test_options_outside_the_base_paths_needs_no_key(client: TestClient[Any]) -> None:
    for path, methods in (("/healthz", READ_ONLY), ("/readyz", READ_ONLY), ("/", READ_ONLY),
                          ("/access-requests", {"POST", "OPTIONS"})):  # fmt: skip
        response = client.options(path)
        assert response.status_code == 204, (path, response.text)
        assert allow_of(response) == methods, path


def test_a_405_lists_head_only_where_get_is_served(client: TestClient[Any], base: str,
                                                   alice: Partner) -> None:  # fmt: skip
    listed = client.post(f"{base}/references", json={}, headers=alice.headers)
    assert listed.status_code == 405
    assert allow_of(listed) == READ_ONLY
    assert "HEAD" in error_of(listed)
    post_only = client.delete("/access-requests")
    assert post_only.status_code == 405
    assert allow_of(post_only) == {"POST", "OPTIONS"}
    assert client.get("/access-requests").status_code == 405
    health = client.delete("/healthz")
    assert health.status_code == 405
    assert allow_of(health) == READ_ONLY


def same_headers(head: httpx.Response, get: httpx.Response) -> None:
    """HEAD answers as GET would, without the body: same status and headers but those that
    change from one request to the next."""
    varying = {"x-request-id", "ratelimit-remaining", "ratelimit-reset"}
    assert head.status_code == get.status_code
    assert head.content == b""
    assert {k: v for k, v in head.headers.items() if k not in varying} == {
        k: v for k, v in get.headers.items() if k not in varying
    }
    assert int(head.headers["Content-Length"]) == int(get.headers["Content-Length"]) > 0
    if "Content-Encoding" not in get.headers:
        assert int(head.headers["Content-Length"]) == len(get.content)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/"])
def test_head_outside_the_base_paths_is_get_without_the_body(
    client: TestClient[Any], path: str
) -> None:
    same_headers(client.head(path), client.get(path))


def test_head_on_a_partner_get_is_the_get_without_the_body(
    client: TestClient[Any], base: str, alice: Partner
) -> None:
    company = create_company(client, base, alice)
    for path in ("/companies", f"/companies/{company['id']}", "/companies/cmp_unknown",
                 "/references/sectors"):  # fmt: skip
        head = client.head(base + path, headers=alice.headers)
        expected = "private, max-age=300" if path.startswith("/references") else "no-store"
        assert head.headers["Cache-Control"] == expected
        same_headers(head, client.get(base + path, headers=alice.headers))
    assert company_count(client, base, alice) == 1


def test_head_without_a_key_under_a_base_path_is_401_with_no_body(
    client: TestClient[Any], base: str
) -> None:
    for path in ("/companies", "/references", "/no-such-route"):
        response = client.head(base + path)
        assert response.status_code == 401
        assert response.content == b""
        assert response.headers["WWW-Authenticate"] == AUTHENTICATE
        assert int(response.headers["Content-Length"]) == len(
            json.dumps(UNAUTHORIZED, separators=(",", ":"))
        )

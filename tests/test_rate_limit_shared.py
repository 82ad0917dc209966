"""With CROSSPATH_REDIS_URL the rate limit holds for the whole deployment: every worker and
instance counts in one Redis."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine

from crosspath.api.app import create_app
from crosspath.settings import Settings
from tests.conftest import Partner, error_of
from tests.test_server import issue_key, start, stop

pytestmark = pytest.mark.redis_only
REDIS_URL = os.environ.get("CROSSPATH_TEST_REDIS_URL", "")


@pytest.fixture
def two_instances(settings: Settings, engine: Engine) -> Iterator[list[TestClient[Any]]]:
    """Two app instances over one database and one Redis, as behind a load balancer."""
    shared = dataclasses.replace(settings, rate_limit=5, redis_url=REDIS_URL)
    with ExitStack() as stack:
        yield [stack.enter_context(TestClient(create_app(shared, engine))) for _ in range(2)]


def test_two_instances_share_one_budget_per_key(
    two_instances: list[TestClient[Any]], alice: Partner, bob: Partner
) -> None:
    first, second = two_instances
    remaining = []
    for client in (first, second, first, second, first):
        response = client.get("/partners/v1/companies", headers=alice.headers)
        assert response.status_code == 200
        remaining.append(int(response.headers["RateLimit-Remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    refused = second.get("/partners/hunteron/v1/missions", headers=alice.headers)
    assert refused.status_code == 429
    assert "Too many requests" in error_of(refused)
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert first.get("/partners/v1/companies", headers=bob.headers).status_code == 200


def test_an_unreachable_redis_lets_requests_through(
    settings: Settings, engine: Engine, alice: Partner, bob: Partner
) -> None:
    broken = dataclasses.replace(settings, rate_limit=1, redis_url="redis://127.0.0.1:1/0")
    with TestClient(create_app(broken, engine)) as client:
        for partner in (alice, alice, bob):
            assert client.get("/partners/v1/missions", headers=partner.headers).status_code == 200


def test_several_server_workers_enforce_one_limit(empty_database_url: str) -> None:
    server = start(
        empty_database_url,
        "--workers",
        "3",
        # A long window: however slow this machine is, the 30 calls fall in one window.
        env={
            "CROSSPATH_REDIS_URL": REDIS_URL,
            "CROSSPATH_RATE_LIMIT": "20",
            "CROSSPATH_RATE_LIMIT_WINDOW": "3600",
        },
    )
    try:
        alice, bob = issue_key(server, "Alice"), issue_key(server, "Bob")

        def call(_: int) -> int:
            url = f"{server.url}/partners/v1/companies"
            return httpx.get(url, headers=alice, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(call, range(30)))
        assert codes.count(200) == 20
        assert codes.count(429) == 10
        bobs = httpx.get(f"{server.url}/partners/v1/companies", headers=bob, timeout=30)
        assert bobs.status_code == 200
    finally:
        stop(server)

"""The client's retries, against a small scripted HTTP server on 127.0.0.1 (429 with
Retry-After, 503, dropped connections, a key still being processed) and against the real
server with a lowered rate limit. Waits go through the client's `sleep`, which the tests
record: what is asserted is how long the client chose to wait, never how long it took."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from crosspath_client import ApiError, Client, ConnectionFailed, Retry

from tests.conftest import Databases
from tests.served import Served, serve

OK = (200, {}, {"data": [], "next_cursor": None})
Answer = tuple[int, dict[str, str], Any] | None  # None: drop the connection unanswered


@dataclass
class Script:
    answers: list[Answer]
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def scripted() -> Iterator[tuple[str, Script]]:
    script = Script([])

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            script.requests.append({"method": self.command, "headers": dict(self.headers),
                                    "path": self.path, "body": body})  # fmt: skip
            answer = script.answers.pop(0) if script.answers else OK
            if answer is None:
                self.close_connection = True
                return
            status, headers, payload = answer
            data = json.dumps(payload).encode()
            self.send_response(status)
            request_id = f"req-{len(script.requests)}"
            sent = {"Content-Type": "application/json", "X-Request-Id": request_id}
            for name, value in (sent | headers).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", script
    server.shutdown()
    server.server_close()


@pytest.fixture
def waits() -> list[float]:
    return []


def client_of(url: str, waits: list[float], attempts: int = 8) -> Client:
    return Client(url, "Recruitment-" + "k" * 32, sleep=waits.append, retry=Retry(attempts))


def error(message: str) -> dict[str, str]:
    return {"error": message}


def test_a_429_is_retried_after_the_seconds_retry_after_says(
    scripted: tuple[str, Script], waits: list[float]
) -> None:
    url, script = scripted
    script.answers = [(429, {"Retry-After": "3"}, error("Too many requests.")), OK]
    with client_of(url, waits) as client:
        assert list(client.companies.list()) == []
    assert len(script.requests) == 2
    assert len(waits) == 1
    assert 3 <= waits[0] < 3.5


def test_a_503_and_dropped_connections_are_retried_with_growing_jittered_waits(
    scripted: tuple[str, Script], waits: list[float]
) -> None:
    url, script = scripted
    script.answers = [(503, {}, error("The database is unreachable.")), None, None, OK]
    with client_of(url, waits) as client:
        assert list(client.missions.list()) == []
    assert len(script.requests) == 4
    retry = Retry()
    assert [0 <= wait <= retry.base * 2**n for n, wait in enumerate(waits)] == [True] * 3


def test_retries_of_a_post_send_the_same_idempotency_key(
    scripted: tuple[str, Script], waits: list[float]
) -> None:
    url, script = scripted
    batch = {"results": [], "summary": {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}}
    still = error("A request with this Idempotency-Key is still being processed; retry soon.")
    script.answers = [None, (503, {"Retry-After": "1"}, error("Down.")), (409, {}, still),
                      (200, {}, batch)]  # fmt: skip
    with client_of(url, waits) as client:
        client.companies.batch([{"external_id": "c-1", "name": "Acme"}])
    keys = {request["headers"]["Idempotency-Key"] for request in script.requests}
    assert len(script.requests) == 4
    assert len(keys) == 1
    assert all(request["body"] == script.requests[0]["body"] for request in script.requests)


def test_a_conflict_that_is_not_about_the_key_is_not_retried(
    scripted: tuple[str, Script], waits: list[float]
) -> None:
    url, script = scripted
    script.answers = [(409, {}, error('external_id "c-1" is already used by company cmp_1.'))]
    with client_of(url, waits) as client, pytest.raises(ApiError) as raised:
        client.companies.create({"external_id": "c-1", "name": "Acme"})
    assert (raised.value.status, raised.value.request_id) == (409, "req-1")
    assert len(script.requests) == 1
    assert waits == []


def test_after_the_last_attempt_the_error_is_raised_with_its_message_and_request_id(
    scripted: tuple[str, Script], waits: list[float]
) -> None:
    url, script = scripted
    script.answers = [(503, {"Retry-After": "1"}, error("Down for a moment."))] * 3
    with client_of(url, waits, attempts=3) as client, pytest.raises(ApiError) as raised:
        client.companies.get("cmp_1")
    assert (raised.value.status, raised.value.message) == (503, "Down for a moment.")
    assert raised.value.request_id == "req-3"
    assert len(waits) == 2


def test_a_service_that_never_answers_raises_connection_failed(
    scripted: tuple[str, Script], waits: list[float]
) -> None:
    url, script = scripted
    script.answers = [None] * 3
    with client_of(url, waits, attempts=3) as client, pytest.raises(ConnectionFailed):
        client.companies.get("cmp_1")
    assert len(script.requests) == 3


@pytest.fixture
def limited(
    databases: Databases, template_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("limited")
    yield from serve(databases, template_db, folder, CROSSPATH_RATE_LIMIT="5",
                     CROSSPATH_RATE_LIMIT_WINDOW="2")  # fmt: skip


def test_under_the_real_rate_limit_every_call_goes_through_after_waiting(
    limited: Served, waits: list[float]
) -> None:
    import time

    partner = limited.partner()

    def wait(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with Client(limited.url, partner.key, sleep=wait) as client:
        for i in range(12):
            client.companies.put(f"c-{i}", {"name": f"Company {i}"})
        assert len(list(client.companies.list())) == 12
    assert waits, "the client waited for the window to reset"
    assert len([c for c in limited.calls(partner) if c["status"] < 400]) == 13


def test_429s_are_waited_out_beyond_the_attempts_for_other_failures(
    scripted: tuple[str, Script], waits: list[float]
) -> None:
    url, script = scripted
    limited = (429, {"Retry-After": "1"}, error("Too many requests."))
    script.answers = [limited] * 5 + [OK]
    with client_of(url, waits, attempts=2) as client:
        assert list(client.companies.list()) == []
    assert len(script.requests) == 6
    script.answers = [limited] * 3
    retry = Retry(attempts=2, rate_limited=2)
    client = Client(url, "Recruitment-" + "k" * 32, sleep=waits.append, retry=retry)
    with client, pytest.raises(ApiError) as raised:
        client.companies.get("cmp_1")
    assert raised.value.status == 429

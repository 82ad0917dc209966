"""Outbound safety: webhooks go only to https URLs on the public internet, checked at every
connection, never follow a redirect, and read at most 64 KiB of an answer."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from crosspath.webhooks.outbound import MAX_BODY, PRIVATE, Answer, Sender, check_url, is_public
from tests.receiver import receiving

REFUSED_HOSTS = [
    "localhost",
    "127.0.0.1",
    "127.8.9.10",
    "[::1]",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "[::]",
    "[::ffff:127.0.0.1]",
    "[::ffff:10.0.0.1]",
    "[fc00::1]",
    "[fd12:3456::1]",
    "[fe80::1]",
    "[fec0::1]",
    "[ff02::1]",
    "224.0.0.1",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.18.0.1",
    "[2002:7f00:1::]",
    "[64:ff9b::a00:1]",
]


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_a_url_on_a_private_loopback_or_reserved_address_is_refused(host: str) -> None:
    assert check_url(f"https://{host}/hook", allow_private=False) == PRIVATE


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111"])
def test_a_url_on_a_public_address_is_accepted(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))
    host = f"[{address}]" if ":" in address else address
    assert check_url(f"https://{host}/hook", allow_private=False) is None


def test_http_is_refused_without_the_development_flag() -> None:
    assert check_url("http://8.8.8.8/hook", allow_private=False) == "url must use https"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.com/hook", "url must be an absolute https URL"),
        ("/relative/hook", "url must be an absolute https URL"),
        ("https://user:pw@8.8.8.8/hook", "url must not contain a user name or password"),
        (
            "https://8.8.8.8:99999/hook",
            "url must be an absolute http(s) URL with a valid host and port",
        ),
    ],
)
def test_a_url_that_is_not_an_absolute_https_url_is_refused(url: str, problem: str) -> None:
    assert check_url(url, allow_private=False) == problem


def test_the_development_flag_allows_http_and_loopback() -> None:
    assert check_url("http://127.0.0.1:8000/hook", allow_private=True) is None
    assert check_url("https://localhost/hook", allow_private=True) is None


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> None:
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in answers[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_host_whose_dns_answers_include_a_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {"hooks.example": ["8.8.8.8", "10.0.0.5"], "ok.example": ["8.8.4.4"]})
    assert check_url("https://hooks.example/hook", allow_private=False) == PRIVATE
    assert check_url("https://ok.example/hook", allow_private=False) is None


def test_a_host_that_does_not_resolve_is_refused() -> None:
    problem = check_url("https://no-such-host.invalid/hook", allow_private=False)
    assert problem == "url's host no-such-host.invalid could not be resolved"


def post(url: str, *, allow_private: bool = True, timeout: float = 2) -> Answer:
    sender = Sender(timeout=timeout, allow_private=allow_private)
    try:
        return sender.post(url, b'{"id":"evt_1"}', {"webhook-id": "evt_1"})
    finally:
        sender.close()


@pytest.mark.parametrize(
    "host", ["localhost", "127.0.0.1", "[::ffff:127.0.0.1]", "rebound.example", "0.0.0.0"]
)
def test_the_sender_refuses_a_private_address_when_it_connects(
    monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    # The host passed the check at registration; at delivery it resolves to loopback.
    fake_dns(monkeypatch, {"rebound.example": ["127.0.0.1"]})
    with receiving() as receiver:
        answer = post(f"https://{host}:{receiver.port}/", allow_private=False)
    assert receiver.connections == 0
    assert answer.status is None
    assert not answer.ok
    assert answer.error.startswith("refused to connect: ")
    assert "a private, loopback or reserved address" in answer.error


def test_the_sender_refuses_http_without_the_development_flag() -> None:
    with receiving() as receiver:
        answer = post(receiver.url, allow_private=False)
    assert (answer.status, answer.error, receiver.connections) == (None, "url must use https", 0)


def test_the_sender_connects_to_the_address_it_checked_and_keeps_the_host_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_dns(monkeypatch, {"hooks.example": ["127.0.0.1"]})
    with receiving() as receiver:
        answer = post(f"http://hooks.example:{receiver.port}/x")
    assert answer.ok
    [request] = receiver.received
    assert request.headers["host"] == f"hooks.example:{receiver.port}"


def test_an_answer_body_is_read_no_further_than_64_kib() -> None:
    huge = b"x" * (20 * 1024 * 1024)
    with receiving(status=500, answer=huge) as receiver:
        answer = post(receiver.url, timeout=5)
    assert answer.status == 500
    assert len(answer.body) == MAX_BODY
    assert answer.truncated


def test_a_redirect_is_answered_not_followed() -> None:
    with receiving() as target, receiving(status=307) as redirecting:
        redirecting.location = target.url
        answer = post(redirecting.url)
    assert (answer.status, answer.ok) == (307, False)
    assert answer.error == "answered 307: redirects are not followed"
    assert target.connections == 0


def test_a_connection_refused_is_an_error_not_an_exception() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    answer = post(f"http://127.0.0.1:{port}/")
    assert answer.status is None
    assert answer.error.startswith("could not connect")

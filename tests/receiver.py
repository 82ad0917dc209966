"""A webhook receiver for the tests: an HTTP server on 127.0.0.1 that records what it gets and
answers as the test says (a status, a delay, a redirect, a huge body, or not until released)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived


@dataclass
class Receiver:
    status: int = 200
    delay: float = 0.0
    location: str | None = None
    answer: bytes = b"ok"
    hold: threading.Event | None = None  # answer only once it is set
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)

    def ids(self) -> list[str]:
        return [request.headers["webhook-id"] for request in self.received]


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            with receiver.arrived:
                receiver.received.append(Received(self.path, headers, body, time.monotonic()))
                receiver.arrived.notify_all()
            if receiver.hold is not None:
                receiver.hold.wait(30)
            time.sleep(receiver.delay)
            try:
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(len(receiver.answer)))
                self.end_headers()
                self.wfile.write(receiver.answer)
            except OSError:
                pass  # the sender hung up: a timeout, or a body cut at the cap

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver
        super().__init__(("127.0.0.1", 0), _handler(receiver))

    def get_request(self) -> Any:
        accepted = super().get_request()
        self.receiver.connections += 1
        return accepted


@contextmanager
def receiving(**behaviour: Any) -> Iterator[Receiver]:
    receiver = Receiver(**behaviour)
    server = _Server(receiver)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield receiver
    finally:
        if receiver.hold is not None:
            receiver.hold.set()
        server.shutdown()
        server.server_close()
        thread.join()

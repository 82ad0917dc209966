"""Outbound HTTP that cannot be aimed inside CrossPath's network (SSRF).

A partner chooses the URL, so the sender trusts nothing about it: only `https`, never a
redirect, and the host resolved and every address it resolves to checked at each connection,
the connection then made to the very address that was checked (a DNS answer that changes
between the check and the connection cannot slip a private address in). TLS still verifies
the certificate against the URL's host name. An answer's body is read up to 64 KiB and no more,
and the whole exchange is bounded by one deadline, however slowly the receiver trickles bytes.

`allow_private` (CROSSPATH_WEBHOOK_ALLOW_PRIVATE_URLS, development and tests only) lifts the
scheme and address rules; redirects, the body cap and the deadline stay.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
import typing
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore

MAX_BODY = 64 * 1024
USER_AGENT = "CrossPath-Webhooks/1.0"
NOT_HTTPS = "url must use https"
PRIVATE = "url must not point at a private, loopback or reserved address"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedAddress(httpcore.ConnectError):
    """The host resolves to an address the sender never connects to."""


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet: no loopback, private, shared (CGNAT),
    link-local, multicast, reserved or unspecified network, IPv4 or IPv6, wrapped or not."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo:
            embedded = address.teredo[1]
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(embedded)
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to (a literal address stands for itself)."""
    host = host.strip("[]")
    try:
        return [ipaddress.ip_address(host.split("%")[0])]
    except ValueError:
        pass
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for *_, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


def check_url(url: str, *, allow_private: bool) -> str | None:
    """What is wrong with a webhook URL, in words for the partner; None when it may be used.
    Resolves the host: a URL that resolves to a refused address is refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "url must be an absolute http(s) URL with a valid host and port"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "url must be an absolute https URL"
    if parts.username is not None or parts.password is not None:
        return "url must not contain a user name or password"
    if allow_private:
        return None
    if parts.scheme != "https":
        return NOT_HTTPS
    try:
        addresses = resolve(parts.hostname, port or 443)
    except (OSError, UnicodeError):
        return f"url's host {parts.hostname} could not be resolved"
    if not addresses or not all(is_public(address) for address in addresses):
        return PRIVATE
    return None


# The end of the exchange the current thread is sending; each delivery runs in one thread.
_deadline = threading.local()


def _remaining(timeout: float | None) -> float:
    end: float | None = getattr(_deadline, "end", None)
    if end is None:
        return timeout if timeout is not None else 30.0
    left = max(end - time.monotonic(), 0.001)
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits no longer than the exchange has left."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._stream.start_tls(ssl_context, server_hostname, _remaining(timeout))
        return DeadlineStream(tls)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """Resolves the host itself, refuses it unless every address is public, and connects to
    one of the addresses it checked."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from None
        refused = [str(a) for a in addresses if not is_public(a)]
        if refused and not self.allow_private:
            raise RefusedAddress(
                f"refused to connect: {host} resolves to {', '.join(refused)}, "
                "a private, loopback or reserved address"
            )
        last: Exception = httpcore.ConnectError(f"{host} resolves to no address")
        for address in addresses:
            try:
                stream = super().connect_tcp(
                    str(address), port, _remaining(timeout), local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            return DeadlineStream(stream)
        raise last


@dataclass(frozen=True, slots=True)
class Answer:
    """What became of one POST: the HTTP status when one came, else what went wrong."""

    status: int | None
    error: str | None = None
    body: bytes = b""
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.error is None


class Sender:
    """POSTs bodies to partners' URLs; safe to share between threads."""

    def __init__(self, *, timeout: float, allow_private: bool, connections: int = 8) -> None:
        self.timeout = timeout
        self.allow_private = allow_private
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(),
            max_connections=connections,
            max_keepalive_connections=connections,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(allow_private=allow_private),
        )

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        if not self.allow_private and urlsplit(url).scheme != "https":
            return Answer(None, NOT_HTTPS)
        sent = {"User-Agent": USER_AGENT, "Content-Type": "application/json", **headers}
        _deadline.end = time.monotonic() + self.timeout
        timeouts = dict.fromkeys(("connect", "read", "write", "pool"), self.timeout)
        try:
            with self._pool.stream(
                "POST", url, headers=list(sent.items()), content=body,
                extensions={"timeout": timeouts},
            ) as response:  # fmt: skip
                read, truncated = _read_capped(response)
                return Answer(response.status, _error_of(response.status), read, truncated)
        except RefusedAddress as exc:
            return Answer(None, str(exc))
        except httpcore.TimeoutException:
            return Answer(None, f"no answer within {self.timeout:g} s")
        except (httpcore.ConnectError, httpcore.UnsupportedProtocol) as exc:
            return Answer(None, f"could not connect: {exc or type(exc).__name__}")
        except (httpcore.NetworkError, httpcore.ProtocolError, ssl.SSLError) as exc:
            return Answer(None, f"connection failed: {exc or type(exc).__name__}")
        finally:
            _deadline.end = None

    def close(self) -> None:
        self._pool.close()


def _read_capped(response: httpcore.Response) -> tuple[bytes, bool]:
    """The body up to MAX_BODY; the status already came, so a body cut short (by the cap, the
    deadline or the connection) does not change what the answer was."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_stream():
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_BODY:
                return b"".join(chunks)[:MAX_BODY], True
    except (httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError):
        return b"".join(chunks), True
    return b"".join(chunks), False


def _error_of(status: int) -> str | None:
    if 200 <= status < 300:
        return None
    if 300 <= status < 400:
        return f"answered {status}: redirects are not followed"
    return f"answered {status}"

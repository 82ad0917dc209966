"""Outbound safety for webhooks (the registration-time check; the delivery side checks again)."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


def check_url(url: str, *, allow_private: bool) -> str | None:
    """What is wrong with sending events to `url`, for the partner to read; None if nothing."""
    parts = urlsplit(url)
    if allow_private:
        return None
    if parts.scheme != "https":
        return "url must use https"
    try:
        infos = socket.getaddrinfo(parts.hostname or "", parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return "url names a host that does not resolve"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            return "url must not point at a private, loopback or reserved address"
    return None

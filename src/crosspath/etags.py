"""Entity tags: a record's version, as conditional requests compare it.

The tag is a digest of the record as the service answers it, so it changes whenever any field
does and is the same under both base paths.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import msgspec

from crosspath.errors import AppError

CHANGED = (
    "The record has changed since the version named by If-Match; get it again, re-apply your "
    "change and retry with its new ETag."
)


class PreconditionFailed(AppError):
    status_code = 412

    def __init__(self) -> None:
        super().__init__(CHANGED)


def of_bytes(body: bytes) -> str:
    digest = hashlib.sha256(body).digest()[:15]
    return f'"{base64.urlsafe_b64encode(digest).decode()}"'


def of(record: Any) -> str:
    return of_bytes(msgspec.json.encode(record))


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def matches_none(header: str | None, etag: str) -> bool:
    """If-None-Match: whether the client's copy is this version (weak comparison)."""
    if header is None:
        return False
    tags = _tags(header)
    return "*" in tags or etag in tags


def require(header: str | None, record: Any | None) -> None:
    """If-Match on a write: refuse (412, nothing changed) unless `record` is at a version the
    client names; `*` names any existing record."""
    if header is None:
        return
    if record is None:
        raise PreconditionFailed()
    tags = [tag for tag in header.split(",") if tag.strip()]
    strong = [tag.strip() for tag in tags if not tag.strip().startswith("W/")]
    if "*" in strong:
        return
    if of(record) not in strong:
        raise PreconditionFailed()

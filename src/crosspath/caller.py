"""The authenticated partner behind a request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Caller:
    """The partner account and the key it used."""

    partner_id: str
    key_id: str
    key_last_used_at: str | None  # RFC 3339

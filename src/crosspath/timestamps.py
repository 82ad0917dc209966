"""Timestamps: aware UTC datetimes inside, RFC 3339 text with microseconds outside."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def rfc3339(value: datetime | str) -> str:
    """`2026-11-28T12:30:00.123456Z`, from a datetime or from the text SQLite stores.

    SQLite keeps a timestamp as `2026-11-28 12:30:00.123456`; turning that text straight into
    RFC 3339 skips a parse and a format per value (bench/).
    """
    if isinstance(value, str):
        if len(value) == 26:
            return f"{value[:10]}T{value[11:]}Z"
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"{value.isoformat('T', 'microseconds')[:26]}Z"


def maybe_rfc3339(value: datetime | str | None) -> str | None:
    return None if value is None else rfc3339(value)


def parse_rfc3339(raw: str) -> datetime:
    """A timestamp with an offset, as a partner sends it in a query string."""
    # A '+' left unencoded in a query string arrives as a space; RFC 3339 allows a lower-case
    # 't' and 'z', which datetime.fromisoformat does not.
    text = raw.strip().replace(" ", "+").upper()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None or "T" not in text:
        raise ValueError(
            "must be an RFC 3339 timestamp with a time zone, e.g. 2026-11-28T12:30:00.123456Z"
        )
    return value

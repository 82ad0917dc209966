"""List queries: strict query-string parsing, filters and keyset pagination by id.

Ids are time-ordered, so ordering by id is ordering by creation; a cursor holds only the last
id seen, and each page is an index range scan whatever the size of the table.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crosspath.errors import FieldErrors
from crosspath.ids import is_id
from crosspath.timestamps import parse_rfc3339

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ListQuery:
    limit: int = DEFAULT_LIMIT
    after: str | None = None
    filters: dict[str, Any] = field(default_factory=dict)


def parse_list_query(
    params: Sequence[tuple[str, str]],
    id_prefix: str,
    filters: Mapping[str, Callable[[str], Any]],
) -> ListQuery:
    """Parse `limit`, `cursor` and the named filters; anything unknown or repeated is a 400."""
    seen, problems = known_params(params, ("limit", "cursor", *filters))
    limit, after, values = DEFAULT_LIMIT, None, {}
    if "limit" in seen:
        limit = parse_limit(seen["limit"], problems) or limit
    if "cursor" in seen:
        after = decode_cursor(seen["cursor"], id_prefix)
        if after is None:
            problems.append("cursor is not valid; send the next_cursor of a previous page")
    for name, parse in filters.items():
        if name in seen:
            try:
                values[name] = parse(seen[name])
            except ValueError as exc:
                problems.append(f"{name} {exc}")
    if problems:
        raise FieldErrors(problems)
    return ListQuery(limit=limit, after=after, filters=values)


def known_params(
    params: Sequence[tuple[str, str]], names: Sequence[str]
) -> tuple[dict[str, str], list[str]]:
    """Each query parameter by name, and a problem for each unknown or repeated one."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for name, value in params:
        if name in seen:
            problems.append(f"{name} must not be repeated")
        elif name not in names:
            problems.append(f"{name} is not a known query parameter")
        seen.setdefault(name, value)
    return seen, problems


def parse_limit(raw: str, problems: list[str], maximum: int = MAX_LIMIT) -> int | None:
    raw = raw.strip()
    # isdigit() alone accepts "²", which int() refuses; only ASCII digits are a number here.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        problems.append(f"limit must be an integer between 1 and {maximum}")
        return None
    return int(raw)


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, id_prefix: str) -> str | None:
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return value if is_id(id_prefix, value) else None


def split_page(rows: Sequence[Any], query: ListQuery) -> tuple[Sequence[Any], str | None]:
    """The rows of this page and the cursor of the next one (None on the last page)."""
    if len(rows) <= query.limit:
        return rows, None
    rows = rows[: query.limit]
    return rows, encode_cursor(rows[-1].id)


parse_timestamp = parse_rfc3339


def parse_text(raw: str) -> str:
    # As in bodies, checked before trimming; PostgreSQL would refuse a NUL outright.
    if _CONTROL.search(raw):
        raise ValueError("must not contain control characters")
    value = raw.strip()
    if not value or len(value) > 100:
        raise ValueError("must be 1 to 100 characters")
    return value


def parse_choice(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"must be one of: {', '.join(choices)}")
        return raw

    return parse

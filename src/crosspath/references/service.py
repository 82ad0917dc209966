"""Reference values: the accepted codes for sectors, locations, languages, positions and sizes.

CrossPath ships default sets and operators replace or extend them from a file. A retired value
is never deleted: records that hold it keep it, new writes must use a current value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from crosspath.fields import Problems
from crosspath.references.defaults import default_sets
from crosspath.references.schema import KINDS, ReferenceFile, ReferenceItem
from crosspath.store.tables import reference_values
from crosspath.timestamps import utcnow


def install_defaults(conn: Connection) -> list[str]:
    """Load the shipped set of every kind that has never had values; return those kinds."""
    present = set(conn.scalars(select(reference_values.c.kind).distinct()))
    loaded = []
    for kind, items in default_sets().items():
        if kind not in present:
            _upsert(conn, kind, items)
            loaded.append(kind)
    return loaded


def load(conn: Connection, data: ReferenceFile) -> dict[str, int]:
    """Apply an operators' file; returns counts of values added, relabelled and retired."""
    problems = _file_problems(data)
    problems.raise_if_any()
    counts = _upsert(conn, data.kind, data.values)
    counts["retired"] = 0
    if data.mode == "replace":
        listed = [item.code for item in data.values]
        counts["retired"] = conn.execute(
            update(reference_values)
            .where(
                reference_values.c.kind == data.kind,
                reference_values.c.retired_at.is_(None),
                reference_values.c.code.not_in(listed),
            )
            .values(retired_at=utcnow())
        ).rowcount
    return counts


def _file_problems(data: ReferenceFile) -> Problems:
    problems = Problems()
    if data.kind not in KINDS:
        problems.add(f"kind must be one of: {', '.join(KINDS)}")
    if data.mode not in ("replace", "extend"):
        problems.add("mode must be one of: replace, extend")
    if not data.values:
        problems.add("values must list at least one value")
    seen: set[str] = set()
    for index, item in enumerate(data.values):
        code, label = item.code.strip(), item.label.strip()
        if not code or len(code) > 100 or re.search(r"[\x00-\x1f\x7f]", code):
            problems.add(f"values[{index}].code must be 1 to 100 characters on one line")
        if not label or len(label) > 200:
            problems.add(f"values[{index}].label must be 1 to 200 characters")
        if code in seen:
            problems.add(f"values[{index}].code {code!r} is listed twice")
        seen.add(code)
    return problems


def _upsert(conn: Connection, kind: str, items: Iterable[ReferenceItem]) -> dict[str, int]:
    existing = {
        row.code: row
        for row in conn.execute(select(reference_values).where(reference_values.c.kind == kind))
    }
    position = max((row.position for row in existing.values()), default=0)
    new_rows, counts = [], {"added": 0, "updated": 0}
    for item in items:
        code, label = item.code.strip(), item.label.strip()
        row = existing.get(code)
        if row is None:
            position += 1
            new_rows.append(
                {
                    "kind": kind,
                    "code": code,
                    "label": label,
                    "country": item.country,
                    "position": position,
                    "retired_at": None,
                }
            )
            counts["added"] += 1
        elif (row.label, row.country, row.retired_at) != (label, item.country, None):
            conn.execute(
                update(reference_values)
                .where(reference_values.c.kind == kind, reference_values.c.code == code)
                .values(label=label, country=item.country, retired_at=None)
            )
            counts["updated"] += 1
    if new_rows:
        conn.execute(insert(reference_values), new_rows)
    return counts


_CURRENT = (
    select(reference_values.c.code, reference_values.c.label, reference_values.c.country)
    .where(reference_values.c.kind == bindparam("kind"), reference_values.c.retired_at.is_(None))
    .order_by(reference_values.c.position)
)


def current(conn: Connection, kind: str) -> list[ReferenceItem]:
    rows = conn.execute(_CURRENT, {"kind": kind})
    return [ReferenceItem(row.code, row.label, row.country) for row in rows]


def all_current(conn: Connection) -> dict[str, list[ReferenceItem]]:
    return {kind: current(conn, kind) for kind in KINDS}


def count_current(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(reference_values.c.kind, func.count())
        .where(reference_values.c.retired_at.is_(None))
        .group_by(reference_values.c.kind)
    )
    return {kind: 0 for kind in KINDS} | {row[0]: row[1] for row in rows}

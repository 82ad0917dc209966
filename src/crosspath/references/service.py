"""Reference values: the accepted codes for sectors, locations, languages, positions and sizes.

CrossPath ships default sets and operators replace or extend them from a file. A retired value
is never deleted: records that hold it keep it, new writes must use a current value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection, Row

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


class LoadPreview(msgspec.Struct):
    """What loading a file would do, before it is applied."""

    kind: str
    mode: str
    added: list[ReferenceItem]
    updated: list[ReferenceItem]  # relabelled, or brought back from retirement
    retired: list[ReferenceItem]


def preview(conn: Connection, data: ReferenceFile) -> LoadPreview:
    """What `load` would add, update and retire, changing nothing."""
    _file_problems(data).raise_if_any()
    existing = _existing(conn, data.kind)
    added, updated = _plan(existing, data.values)
    listed = {item.code.strip() for item in data.values}
    retired = [
        ReferenceItem(row.code, row.label, row.country)
        for row in sorted(existing.values(), key=lambda row: row.position)
        if data.mode == "replace" and row.retired_at is None and row.code not in listed
    ]
    return LoadPreview(data.kind, data.mode, added, updated, retired)


def _existing(conn: Connection, kind: str) -> dict[str, Row[Any]]:
    rows = conn.execute(select(reference_values).where(reference_values.c.kind == kind))
    return {row.code: row for row in rows}


def _plan(
    existing: dict[str, Row[Any]], items: Iterable[ReferenceItem]
) -> tuple[list[ReferenceItem], list[ReferenceItem]]:
    """The file's values that are new, and those that change an existing one."""
    added, updated = [], []
    for item in items:
        cleaned = ReferenceItem(item.code.strip(), item.label.strip(), item.country)
        row = existing.get(cleaned.code)
        if row is None:
            added.append(cleaned)
        elif (row.label, row.country, row.retired_at) != (cleaned.label, cleaned.country, None):
            updated.append(cleaned)
    return added, updated


def _upsert(conn: Connection, kind: str, items: Iterable[ReferenceItem]) -> dict[str, int]:
    existing = _existing(conn, kind)
    added, updated = _plan(existing, items)
    position = max((row.position for row in existing.values()), default=0)
    for item in updated:
        conn.execute(
            update(reference_values)
            .where(reference_values.c.kind == kind, reference_values.c.code == item.code)
            .values(label=item.label, country=item.country, retired_at=None)
        )
    if added:
        conn.execute(
            insert(reference_values),
            [
                {
                    "kind": kind,
                    "code": item.code,
                    "label": item.label,
                    "country": item.country,
                    "position": position + offset,
                    "retired_at": None,
                }
                for offset, item in enumerate(added, start=1)
            ],
        )
    return {"added": len(added), "updated": len(updated)}


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


def labels(conn: Connection, kind: str, codes: Iterable[str]) -> dict[str, str]:
    """The labels of these codes, retired ones included (a record may still hold one)."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = conn.execute(
        select(reference_values.c.code, reference_values.c.label).where(
            reference_values.c.kind == kind, reference_values.c.code.in_(wanted)
        )
    )
    return {row.code: row.label for row in rows}


def count_current(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(reference_values.c.kind, func.count())
        .where(reference_values.c.retired_at.is_(None))
        .group_by(reference_values.c.kind)
    )
    return {kind: 0 for kind in KINDS} | {row[0]: row[1] for row in rows}

"""Reference-valued fields (a `Code` or `Codes` checker): their codes checked against the
reference sets, once per record or once for a whole batch."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.engine import Connection

from crosspath.fields import Code, Codes, Problems, Spec
from crosspath.store.tables import reference_values


def reference_codes(specs: Mapping[str, Spec], values: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The (kind, code) pairs that reference-valued fields of `values` name."""
    return {
        (spec.check.kind, code)
        for name, spec in specs.items()
        if isinstance(spec.check, Code | Codes)
        for code in _as_list(values.get(name))
    }


def check_references(
    conn: Connection,
    specs: Mapping[str, Spec],
    values: Mapping[str, Any],
    problems: Problems,
    current: Any | None = None,
    accepted: set[tuple[str, str]] | None = None,
) -> None:
    """Record a problem for every code that is not a current value of its kind (`accepted`,
    when a batch has looked them all up at once).

    A code the record already holds is accepted even if it has been retired since, so a full
    re-sync of the record works; changing to a retired value does not.
    """
    pairs = reference_codes(specs, values)
    if not pairs:
        return
    if accepted is None:
        accepted = current_codes(conn, pairs)
    for name, spec in specs.items():
        if not isinstance(spec.check, Code | Codes):
            continue
        kept = set(_as_list(getattr(current, name, None)))
        for code in _as_list(values.get(name)):
            if (spec.check.kind, code) not in accepted and code not in kept:
                problems.add(
                    f'{name} "{code}" is not an accepted value; the accepted values are listed '
                    f"at GET /partners/v1/references/{spec.check.kind}"
                )


@cache
def _current_codes_of(kinds: tuple[str, ...]) -> Select[Any]:
    """Codes of these kinds among those asked, as one index lookup per kind: `kind IN (...)
    AND code IN (...)` would read every code of the kinds (6,450 locations) on PostgreSQL."""
    return select(reference_values.c.kind, reference_values.c.code).where(
        reference_values.c.retired_at.is_(None),
        or_(
            *(
                and_(
                    reference_values.c.kind == kind,
                    reference_values.c.code.in_(bindparam(kind, expanding=True)),
                )
                for kind in kinds
            )
        ),
    )


def current_codes(conn: Connection, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    if not pairs:
        return set()
    asked: dict[str, list[str]] = {}
    for kind, code in sorted(pairs):
        asked.setdefault(kind, []).append(code)
    rows = conn.execute(_current_codes_of(tuple(asked)), asked)
    return {(kind, code) for kind, code in rows}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]

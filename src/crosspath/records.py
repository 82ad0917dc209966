"""What companies and missions share: unique external ids and reference-valued fields."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from crosspath.errors import Conflict
from crosspath.validation import Code, Codes, Spec


@contextmanager
def guard_external_id(
    conn: Connection, table: Table, partner_id: str, values: Mapping[str, Any], noun: str
) -> Iterator[None]:
    """Turn a duplicate `external_id` into a 409 naming the record that holds it.

    The unique index decides, so two racing creates cannot both win.
    """
    external_id = values.get("external_id")
    if external_id is None:
        yield
        return
    # After a failed statement SQLite carries on with the transaction; PostgreSQL aborts it
    # unless the statement ran in a savepoint (which costs a round trip each way).
    scope = nullcontext() if conn.dialect.name == "sqlite" else conn.begin_nested()
    try:
        with scope:
            yield
    except IntegrityError:
        holder = conn.scalar(
            select(table.c.id).where(
                table.c.partner_id == partner_id, table.c.external_id == external_id
            )
        )
        if holder is None:
            raise
        raise Conflict(f'external_id "{external_id}" is already used by {noun} {holder}.') from None


def reference_fields(
    specs: Mapping[str, Spec], values: Mapping[str, Any], current: Any | None
) -> tuple[dict[str, tuple[str, Any]], dict[str, Any]]:
    """The reference-valued fields being written, and the record's own current values of them."""
    fields: dict[str, tuple[str, Any]] = {}
    keep: dict[str, Any] = {}
    for name, spec in specs.items():
        if isinstance(spec.check, Code | Codes) and values.get(name) is not None:
            fields[name] = (spec.check.kind, values[name])
            if current is not None:
                keep[name] = getattr(current, name)
    return fields, keep

"""The statements on a resource's rows, derived from its declaration (see `records`).

`Resource` maps a declared Struct to its table (a nested Struct spreads over `name_*`
columns), builds the statements that read and write the rows once, and turns rows back into
the Struct, timestamps already RFC 3339 text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from datetime import datetime
from functools import cache
from typing import Any, Generic, TypeVar, get_type_hints

import msgspec
from sqlalchemy import Column, Select, String, Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from crosspath.errors import Conflict, NotFound
from crosspath.fields import Problems, parse_fields
from crosspath.ids import is_id, new_id
from crosspath.paging import ListQuery, split_page
from crosspath.records import declared, struct_of
from crosspath.store import feed
from crosspath.timestamps import rfc3339, utcnow

S = TypeVar("S", bound=msgspec.Struct)


class Resource(Generic[S]):
    """A partner-owned resource: its declaration, table, and the statements on its rows."""

    def __init__(self, struct: type[S], table: Table, *, noun: str, id_prefix: str) -> None:
        self.struct = struct
        self.table = table
        self.noun = noun
        self.id_prefix = id_prefix
        self.specs, self.read_only = declared(struct)
        self.defaults = {name: spec.default for name, spec in self.specs.items()}
        self._nested = {
            name: nested
            for name in struct.__struct_fields__
            if (nested := struct_of(get_type_hints(struct)[name])) is not None
        }
        self._columns: list[Column[Any]] = []
        self._readers: list[tuple[int, int]] = []  # (first column, count) of each field
        for name in struct.__struct_fields__:
            names = self._column_names(name)
            self._readers.append((len(self._columns), len(names)))
            self._columns += [table.c[column] for column in names]
        # How from_row rebuilds a record: runs of columns that are fields as they are
        # (nested None), and the columns of each nested field.
        self._segments: list[tuple[int, int, type[msgspec.Struct] | None]] = []
        for name, (first, count) in zip(struct.__struct_fields__, self._readers, strict=True):
            nested = self._nested.get(name)
            last = self._segments[-1] if self._segments else None
            if nested is None and last is not None and last[2] is None and last[1] == first:
                self._segments[-1] = (last[0], first + count, None)
            else:
                self._segments.append((first, first + count, nested))
        partner, record = bindparam("_partner_id", type_=String), bindparam("_id", type_=String)
        self.select: Select[Any] = select(*self._columns)
        self._one = self.select.where(table.c.partner_id == partner, table.c.id == record)
        self._one_locked = self._one.with_for_update()
        by_external_id = table.c.external_id == bindparam("_external_id", type_=String)
        self._by_external_id = self.select.where(
            table.c.partner_id == partner, by_external_id
        ).with_for_update()
        self._by_external_ids = self.select.where(
            table.c.partner_id == partner,
            table.c.external_id.in_(bindparam("_external_ids", expanding=True)),
        ).with_for_update()
        self._delete = delete(table).where(table.c.partner_id == partner, table.c.id == record)
        self._insert = insert(table)
        # One new record: an external_id already taken inserts nothing rather than failing,
        # which on PostgreSQL would abort the transaction unless the insert ran in a savepoint
        # (a round trip each way).
        self._insert_new = {  # the id comes back when the row was written
            "postgresql": postgresql.insert(table).on_conflict_do_nothing().returning(table.c.id),
            "sqlite": sqlite.insert(table).on_conflict_do_nothing().returning(table.c.id),
        }
        self._update = update(table).where(table.c.partner_id == partner, table.c.id == record)

    def _column_names(self, name: str) -> list[str]:
        nested = self._nested.get(name)
        if nested is None:
            return [name]
        return [f"{name}_{key}" for key in nested.__struct_fields__]

    # Input

    def parse(
        self, body: Mapping[str, Any], *, creating: bool, provided: tuple[str, ...] = ()
    ) -> tuple[dict[str, Any], Problems]:
        """The cleaned fields present in `body`, and the problems found (not raised yet, so
        that a missing record is a 404 first)."""
        problems = Problems()
        values = parse_fields(
            body,
            self.specs,
            problems,
            creating=creating,
            read_only=self.read_only,
            provided=provided,
        )
        return values, problems

    def columns(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Field values as column values: a nested object spreads over its columns."""
        out: dict[str, Any] = {}
        for name, value in values.items():
            nested = self._nested.get(name)
            if nested is None:
                out[name] = value
            else:
                for key in nested.__struct_fields__:
                    out[f"{name}_{key}"] = None if value is None else value.get(key)
        return out

    def comparable(self, record: S) -> dict[str, Any]:
        """A record's writable fields as parsed input would give them."""
        return {name: msgspec.to_builtins(getattr(record, name)) for name in self.specs}

    # Rows

    def from_row(self, row: Sequence[Any]) -> S:
        values: list[Any] = []
        for start, end, nested in self._segments:
            if nested is None:
                values += row[start:end]
            else:
                values.append(None if row[start] is None else nested(*row[start:end]))
        return self.struct(*values)

    def insert(self, conn: Connection, partner_id: str, values: Mapping[str, Any]) -> S:
        """A new record of these (complete, cleaned) field values; answered from what was
        written, not read back."""
        now = utcnow()
        row = self._new_row(partner_id, values, now)
        if conn.execute(self._insert_new[conn.dialect.name], row).first() is None:
            taken = self._taken(conn, partner_id, values.get("external_id"))
            raise taken or RuntimeError(f"{self.noun} not written: its id is taken")
        record = self._inserted(row, now)
        self._created(conn, partner_id, record)
        return record

    def _created(self, conn: Connection, partner_id: str, record: S) -> None:
        feed.note(conn, partner_id, f"{self.noun}.created", record, list(self.specs))

    def _new_row(self, partner_id: str, values: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        ids = {"partner_id": partner_id, "id": new_id(self.id_prefix)}
        return self.columns(values) | ids | {"created_at": now, "updated_at": now}

    def _inserted(self, row: Mapping[str, Any], now: datetime) -> S:
        stamped = {**row, "created_at": rfc3339(now), "updated_at": rfc3339(now)}
        return self.from_row([stamped[column.name] for column in self._columns])

    def _replaced(self, current: S, values: Mapping[str, Any], now: datetime) -> S:
        typed = {name: self._typed(name, value) for name, value in values.items()}
        return msgspec.structs.replace(current, **typed, updated_at=rfc3339(now))

    def find(
        self, conn: Connection, partner_id: str, record_id: str, *, for_update: bool = False
    ) -> S | None:
        if not is_id(self.id_prefix, record_id):
            return None  # names nothing; PostgreSQL refuses some such strings (a NUL) outright
        statement = self._one_locked if for_update else self._one
        row = conn.execute(statement, {"_partner_id": partner_id, "_id": record_id}).first()
        return None if row is None else self.from_row(row)

    def load(
        self,
        conn: Connection,
        partner_id: str,
        record_id: str,
        missing: str,
        *,
        for_update: bool = False,
    ) -> S:
        record = self.find(conn, partner_id, record_id, for_update=for_update)
        if record is None:
            raise NotFound(missing)
        return record

    def find_by_external_id(self, conn: Connection, partner_id: str, external_id: str) -> S | None:
        """The partner's record with this id of its own, locked for the write that follows."""
        params = {"_partner_id": partner_id, "_external_id": external_id}
        row = conn.execute(self._by_external_id, params).first()
        return None if row is None else self.from_row(row)

    def find_by_external_ids(
        self, conn: Connection, partner_id: str, external_ids: Sequence[str]
    ) -> dict[str, S]:
        """The partner's records with these ids of its own, by external id, locked."""
        params = {"_partner_id": partner_id, "_external_ids": list(external_ids)}
        rows = conn.execute(self._by_external_ids, params)
        found = [self.from_row(row) for row in rows]
        return {getattr(record, "external_id"): record for record in found}  # noqa: B009

    def insert_many(
        self, conn: Connection, partner_id: str, many: Sequence[Mapping[str, Any]]
    ) -> list[S]:
        """New records of these (complete, cleaned) values, in one statement sent once."""
        if not many:
            return []
        now = utcnow()
        rows = [self._new_row(partner_id, values, now) for values in many]
        conn.execute(self._insert, rows)
        records = [self._inserted(row, now) for row in rows]
        for record in records:
            self._created(conn, partner_id, record)
        return records

    def changes(self, current: S, values: Mapping[str, Any]) -> dict[str, Any]:
        before = self.comparable(current)
        return {name: value for name, value in values.items() if before[name] != value}

    def update_many(
        self, conn: Connection, partner_id: str, many: Sequence[tuple[S, Mapping[str, Any]]]
    ) -> list[S]:
        """Replace these records' writable fields, in one statement sent once; each pair must
        change something (see `changes`)."""
        if not many:
            return []
        now = utcnow()
        params = []
        for current, values in many:
            full = self.comparable(current) | dict(values)
            params.append(
                self.columns(full)
                | {"updated_at": now, "_partner_id": partner_id, "_id": getattr(current, "id")}  # noqa: B009
            )
        conn.execute(self._update, params)  # the same columns in every row: one SET
        records = []
        for current, values in many:
            records.append(self._replaced(current, values, now))
            changed = list(self.changes(current, values))
            feed.note(conn, partner_id, f"{self.noun}.updated", records[-1], changed)
        return records

    def delete(self, conn: Connection, partner_id: str, record: S) -> None:
        record_id = getattr(record, "id")  # noqa: B009
        conn.execute(self._delete, {"_partner_id": partner_id, "_id": record_id})
        gone = {"id": record_id, "external_id": getattr(record, "external_id", None)}
        feed.note(conn, partner_id, f"{self.noun}.deleted", gone, [])

    def update(
        self,
        conn: Connection,
        partner_id: str,
        current: S,
        values: Mapping[str, Any],
        *,
        actor: str = "partner",
        reason: str | None = None,
    ) -> S:
        """Write the fields of `values` that differ from `current`; a no-op writes nothing,
        keeps `updated_at` and makes no event. `actor` made the change (CrossPath's operators:
        "crosspath"), for the reason given."""
        changed = self.changes(current, values)
        if not changed:
            return current
        now = utcnow()
        params = self.columns(changed) | {"updated_at": now}
        with self.unique_external_id(conn, partner_id, changed):
            keys = {"_partner_id": partner_id, "_id": getattr(current, "id")}  # noqa: B009
            conn.execute(self._update, params | keys)
        record = self._replaced(current, changed, now)
        updated = f"{self.noun}.updated"
        feed.note(conn, partner_id, updated, record, list(changed), actor=actor, reason=reason)
        return record

    def _typed(self, name: str, value: Any) -> Any:
        nested = self._nested.get(name)
        return value if nested is None or value is None else nested(**value)

    def page(
        self, conn: Connection, partner_id: str, query: ListQuery
    ) -> tuple[list[S], str | None]:
        params: dict[str, Any] = {"_partner_id": partner_id, "_limit": query.limit + 1}
        params |= {f"_{name}": value for name, value in query.filters.items()}
        if query.after is not None:
            params["_after"] = query.after
        statement = self._list(tuple(sorted(query.filters)), query.after is not None)
        rows, cursor = split_page(conn.execute(statement, params).all(), query)
        return [self.from_row(row) for row in rows], cursor

    @cache  # noqa: B019 - one statement per combination of filters, kept with the resource
    def _list(self, filters: tuple[str, ...], after: bool) -> Select[Any]:
        table = self.table
        statement = self.select.where(table.c.partner_id == bindparam("_partner_id"))
        for name in filters:
            if name == "updated_since":
                statement = statement.where(table.c.updated_at >= bindparam("_updated_since"))
            else:
                statement = statement.where(table.c[name] == bindparam(f"_{name}"))
        if after:
            statement = statement.where(table.c.id > bindparam("_after"))
        return statement.order_by(table.c.id).limit(bindparam("_limit"))

    @contextmanager
    def unique_external_id(
        self, conn: Connection, partner_id: str, values: Mapping[str, Any]
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
            taken = self._taken(conn, partner_id, external_id)
            if taken is None:
                raise
            raise taken from None

    def _taken(self, conn: Connection, partner_id: str, external_id: str | None) -> Conflict | None:
        """The 409 naming the record that holds `external_id`, if one does."""
        if external_id is None:
            return None
        table = self.table
        holder = conn.scalar(
            select(table.c.id).where(
                table.c.partner_id == partner_id, table.c.external_id == external_id
            )
        )
        if holder is None:
            return None
        return Conflict(f'external_id "{external_id}" is already used by {self.noun} {holder}.')

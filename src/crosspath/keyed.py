"""Writes keyed by the partner's own ids: what PUT by external id and batches share.

A PUT makes the partner's record look like the body: absent, it is created; present, replaced
(a replacement that changes nothing keeps `updated_at`). A batch applies each item as that PUT
would, each all-or-nothing in its own savepoint, independently of the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import msgspec
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from crosspath import etags
from crosspath.errors import AppError, BadRequest, Conflict, FieldErrors
from crosspath.fields import Invalid, Line, Problems
from crosspath.store import feed
from crosspath.store.resource import Resource

R = TypeVar("R")
I = TypeVar("I")  # noqa: E741 - an item of a batch, as the feature parsed it
State = Literal["created", "updated", "unchanged"]
MAX_ITEMS = 100


@dataclass(frozen=True, slots=True)
class Written(Generic[R]):
    record: R
    state: State

    @property
    def status_code(self) -> int:
        return 201 if self.state == "created" else 200


def put(
    conn: Connection,
    resource: Resource[Any],
    partner_id: str,
    external_id: str,
    if_match: str | None,
    replacement: Callable[[Any | None], dict[str, Any]],
) -> Written[Any]:
    """Make the partner's record with this external id look like `replacement(current)` (the
    values to write once every rule is checked against the current record, None when absent)."""
    current = resource.find_by_external_id(conn, partner_id, external_id)
    etags.require(if_match, current)
    values = replacement(current)
    if current is None:
        try:
            return Written(resource.insert(conn, partner_id, values), "created")
        except Conflict:  # created meanwhile by a concurrent PUT: replace that one
            current = resource.find_by_external_id(conn, partner_id, external_id)
            if current is None:
                raise
            values = replacement(current)
    updated = resource.update(conn, partner_id, current, values)
    return Written(updated, "unchanged" if updated is current else "updated")


def path_external_id(raw: str) -> str:
    """The external id a PUT names in its path, checked as the field is."""
    try:
        value = Line(100)(raw)
    except Invalid as exc:
        raise BadRequest(f"The external id in the path {exc}.") from None
    if value is None:
        raise BadRequest("The external id in the path must not be blank.")
    return value


def same_external_id(values: dict[str, Any], external_id: str, problems: Problems) -> None:
    """An `external_id` in a PUT's body must be the path's."""
    if "external_id" in values and values["external_id"] != external_id:
        problems.add(f'external_id must be the same as in the path ("{external_id}") or left out')
    values["external_id"] = external_id


def batch_items(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The items of `{"items": [...]}` with their external ids; the whole batch is one 400 when
    its shape is wrong, an item has no external id, or an external id comes twice."""
    if set(data) != {"items"}:
        unknown = sorted(set(data) - {"items"})
        raise FieldErrors(
            [f"{name} is not a known field" for name in unknown]
            or ['the body must be {"items": [...]}']
        )
    items = data["items"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise BadRequest(f"items must be an array of 1 to {MAX_ITEMS} objects.")
    problems: list[str] = []
    keyed: list[tuple[str, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            problems.append(f"items[{index}] must be an object")
            continue
        try:
            external_id = Line(100)(item.get("external_id"))
        except Invalid as exc:
            problems.append(f"items[{index}].external_id {exc}")
            continue
        if external_id is None:
            problems.append(f"items[{index}].external_id is required")
        elif external_id in seen:
            problems.append(
                f'items[{index}].external_id "{external_id}" is also items[{seen[external_id]}]'
            )
        else:
            seen[external_id] = index
            keyed.append((external_id, item))
    if problems:
        raise FieldErrors(problems)
    return keyed


class Summary(msgspec.Struct):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0


def apply_batch(
    conn: Connection,
    resource: Resource[Any],
    partner_id: str,
    items: Sequence[tuple[str, I]],
    decide: Callable[[str, I, Any | None], dict[str, Any]],
) -> dict[str, Any]:
    """Each item as its PUT would apply it, results in the order of the items.

    `decide(external_id, item, current)` checks an item against the partner's current record
    (None: a create) and gives the values to write, or raises the item's error. The records
    are looked up together and written in two statements (the creates, the replacements); if
    another request created one of these external ids meanwhile, the writes are applied one by
    one instead, each in its own savepoint, so that only that item fails.
    """
    existing = resource.find_by_external_ids(conn, partner_id, [key for key, _ in items])
    results: list[dict[str, Any]] = [{} for _ in items]
    creates: list[tuple[int, dict[str, Any]]] = []
    updates: list[tuple[int, Any, dict[str, Any]]] = []
    for index, (external_id, item) in enumerate(items):
        current = existing.get(external_id)
        try:
            values = decide(external_id, item, current)
        except AppError as exc:
            results[index] = _failed(external_id, exc)
            continue
        if current is None:
            creates.append((index, values))
        elif resource.changes(current, values):
            updates.append((index, current, values))
        else:
            results[index] = _done(resource, external_id, 200, current)
    position = feed.mark(conn)
    try:
        with conn.begin_nested():
            created = resource.insert_many(conn, partner_id, [values for _, values in creates])
            replaced = resource.update_many(conn, partner_id, [(c, v) for _, c, v in updates])
        for (index, _), record in zip(creates, created, strict=True):
            results[index] = _done(resource, record.external_id, 201, record)
        for (index, _, _), record in zip(updates, replaced, strict=True):
            results[index] = _done(resource, record.external_id, 200, record)
    except IntegrityError:
        feed.forget_after(conn, position)  # the events of the statements undone
        _one_by_one(conn, resource, partner_id, creates, updates, results)
    return {"results": results, "summary": _summary(results, len(updates))}


def _one_by_one(
    conn: Connection,
    resource: Resource[Any],
    partner_id: str,
    creates: list[tuple[int, dict[str, Any]]],
    updates: list[tuple[int, Any, dict[str, Any]]],
    results: list[dict[str, Any]],
) -> None:
    for index, values in creates:
        try:
            with conn.begin_nested():
                record = resource.insert(conn, partner_id, values)
            results[index] = _done(resource, record.external_id, 201, record)
        except AppError as exc:
            results[index] = _failed(values["external_id"], exc)
    for index, current, values in updates:
        with conn.begin_nested():  # by id, under the lock taken when it was looked up
            record = resource.update(conn, partner_id, current, values)
        results[index] = _done(resource, record.external_id, 200, record)


def _done(resource: Resource[Any], external_id: str, status: int, record: Any) -> dict[str, Any]:
    return {"external_id": external_id, "status": status, resource.noun: record}


def _failed(external_id: str, exc: AppError) -> dict[str, Any]:
    return {"external_id": external_id, "status": exc.status_code, "error": exc.message}


def _summary(results: list[dict[str, Any]], updated: int) -> Summary:
    created = sum(result["status"] == 201 for result in results)
    failed = sum("error" in result for result in results)
    unchanged = len(results) - created - failed - updated
    return Summary(created=created, updated=updated, unchanged=unchanged, failed=failed)

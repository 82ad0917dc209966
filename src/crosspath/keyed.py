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

from crosspath.errors import AppError, BadRequest, FieldErrors
from crosspath.fields import Invalid, Line, Problems

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
    noun: str,
    items: Sequence[tuple[str, I]],
    put: Callable[[Connection, str, I], Written[Any]],
) -> dict[str, Any]:
    """Each item through `put`, in order, each in a savepoint: a refused item changes nothing
    and stops nothing. The answer's results are in the order of the items."""
    results: list[dict[str, Any]] = []
    summary = Summary()
    for external_id, item in items:
        try:
            with conn.begin_nested():
                written = put(conn, external_id, item)
        except AppError as exc:
            summary.failed += 1
            error = {"external_id": external_id, "status": exc.status_code, "error": exc.message}
            results.append(error)
            continue
        setattr(summary, written.state, getattr(summary, written.state) + 1)
        results.append(
            {"external_id": external_id, "status": written.status_code, noun: written.record}
        )
    return {"results": results, "summary": summary}

"""The partner's files: JSON Lines, one record per line, keyed by `external_id`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec

Kind = Literal["companies", "missions"]
KINDS: tuple[Kind, ...] = ("companies", "missions")
# Read-only or CrossPath's to set: ignored in a line, so that a record as the API answers it
# is a valid line.
IGNORED = ("id", "status", "created_at", "updated_at")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
REQUIRED: dict[Kind, tuple[str, ...]] = {
    "companies": ("name",),
    "missions": ("title", "description", "position", "location"),
}


@dataclass
class Invalid:
    line: int
    external_id: str | None
    error: str


@dataclass
class Export:
    """The records of one file by external id, in file order, and the lines that are not."""

    kind: Kind
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    invalid: list[Invalid] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every line named its record: only then may missing ones be taken down."""
        return all(problem.external_id is not None for problem in self.invalid)

    @property
    def protected(self) -> set[str]:
        return {p.external_id for p in self.invalid if p.external_id is not None}


def read(path: Path, kind: Kind) -> Export:
    export = Export(kind)
    lines: dict[str, int] = {}
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            if not raw.strip():
                continue
            try:
                record = _record(raw, kind)
            except _LineError as exc:
                export.invalid.append(Invalid(number, exc.external_id, f"line {number}: {exc}"))
                continue
            external_id = record["external_id"]
            if external_id in lines:
                message = (
                    f'line {number}: external_id "{external_id}" is also line {lines[external_id]}'
                )
                export.invalid.append(Invalid(number, external_id, message))
                export.records.pop(external_id, None)
                continue
            lines[external_id] = number
            export.records[external_id] = record
    return export


class _LineError(Exception):
    def __init__(self, message: str, external_id: str | None = None) -> None:
        super().__init__(message)
        self.external_id = external_id


def _record(raw: bytes, kind: Kind) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise _LineError(f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise _LineError("must be a JSON object")
    external_id = value.get("external_id")
    if not isinstance(external_id, str) or not external_id.strip():
        raise _LineError("external_id is required (a non-blank string)")
    external_id = external_id.strip()
    # Checked here as the API checks it: a batch with one bad external id is refused whole.
    if len(external_id) > 100 or _CONTROL.search(external_id):
        raise _LineError(
            "external_id must be at most 100 characters, without control characters",
            external_id,
        )
    problems = [f"{name} is required" for name in REQUIRED[kind] if value.get(name) is None]
    if kind == "missions" and value.get("company_external_id") is value.get("company_id") is None:
        problems.append("company_external_id is required")
    if problems:
        raise _LineError("; ".join(problems), external_id)
    record = {name: item for name, item in value.items() if name not in IGNORED}
    record["external_id"] = external_id
    return record

"""The records the API answers, as typed msgspec structs.

Unknown fields are ignored when decoding, so a newer server never breaks an older client.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

MissionStatus = Literal["private", "live", "closed"]
EventType = Literal[
    "company.created", "company.updated", "mission.created", "mission.updated", "mission.deleted"
]


class Salary(msgspec.Struct, frozen=True):
    min: int
    max: int
    currency: str
    period: Literal["year", "month", "day", "hour"]


class Company(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    external_id: str | None
    name: str
    website: str | None = None
    description: str | None = None
    sector: str | None = None
    size: str | None = None
    location: str | None = None
    created_at: str
    updated_at: str


class Mission(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    external_id: str | None
    company_id: str
    title: str
    description: str
    position: str
    location: str
    languages: list[str] = []
    contract_type: str | None = None
    remote_policy: str | None = None
    experience_years_min: int | None = None
    salary: Salary | None = None
    openings: int = 1
    status: MissionStatus = "private"
    created_at: str
    updated_at: str


class ReferenceValue(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    label: str
    country: str | None = None


class EventData(msgspec.Struct, frozen=True, kw_only=True):
    object: dict[str, Any]
    changed: list[str] = []
    reason: str | None = None


class Event(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    type: EventType
    created_at: str
    actor: Literal["partner", "crosspath"]
    data: EventData

    @property
    def kind(self) -> Literal["company", "mission"]:
        return "company" if self.type.startswith("company.") else "mission"

    def record(self) -> Company | Mission | None:
        """The record after the change, typed; None for a deletion (`data.object` has its ids)."""
        if self.type == "mission.deleted":
            return None
        if self.kind == "company":
            return msgspec.convert(self.data.object, Company)
        return msgspec.convert(self.data.object, Mission)


class WebhookEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    url: str
    event_types: list[EventType] | None = None  # None: every type
    description: str | None = None
    enabled: bool = True
    created_at: str
    updated_at: str
    secret: str | None = None  # only in the answer that created it


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """One event sent (or to be sent) to one endpoint; named by its event's id."""

    event_id: str
    event_type: EventType
    status: Literal["pending", "succeeded", "failed"]
    attempts: int
    last_attempt_at: str | None = None
    last_status: int | None = None
    last_error: str | None = None
    next_attempt_at: str | None = None
    created_at: str


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0


class ItemResult(msgspec.Struct, frozen=True, kw_only=True):
    """One item of a batch: `record` when it was applied (201 or 200), `error` when refused."""

    external_id: str
    status: int
    error: str | None = None
    company: Company | None = None
    mission: Mission | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def record(self) -> Company | Mission | None:
        return self.company or self.mission


class BatchResult(msgspec.Struct, frozen=True, kw_only=True):
    results: list[ItemResult]
    summary: Summary


def to_builtins(record: msgspec.Struct) -> dict[str, Any]:
    """A record as plain JSON values, e.g. to send it back."""
    value: dict[str, Any] = msgspec.to_builtins(record)
    return value

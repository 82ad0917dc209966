"""What CrossPath holds now: from the change feed since the stored cursor when there is one,
otherwise by listing every record (a page of 100 per call)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from crosspath_client.client import Client
from crosspath_client.errors import ApiError
from crosspath_client.records import Event
from crosspath_client.sync.compare import content, fingerprint
from crosspath_client.sync.inputs import KINDS, Kind
from crosspath_client.sync.state import Known, State

# No feed on this service (404), a cursor it never gave (400), one past its retention (410).
UNFOLLOWABLE = (400, 404, 410)


@dataclass
class Current:
    """The state's records brought up to date, and the contents of those read in full."""

    state: State
    bodies: dict[Kind, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"companies": {}, "missions": {}}
    )

    def known(self, kind: Kind) -> dict[str, Known]:
        return self.state.records(kind)

    def record(self, kind: Kind, record: dict[str, Any]) -> Known | None:
        """Take in a record as the API answered it; the entry it now has."""
        external_id = record.get("external_id")
        if external_id is None:
            return None  # not keyed by the partner: never this command's to touch
        body = content(kind, record)
        known = self.known(kind)
        before = known.get(external_id)
        entry = Known(id=record["id"], seen=fingerprint(body), status=record.get("status"))
        if before is not None and before.id == entry.id:
            entry.sent, entry.answered = before.sent, before.answered
        known[external_id] = entry
        self.bodies[kind][external_id] = body
        return entry

    def forget(self, kind: Kind, external_id: str) -> None:
        self.known(kind).pop(external_id, None)
        self.bodies[kind].pop(external_id, None)


def read(client: Client, state: State, kinds: Iterable[Kind], use_feed: bool) -> Current:
    current = Current(state)
    wanted = list(kinds)
    covered = set(wanted) <= set(state.covered)
    if use_feed and state.cursor is not None and covered and _follow(client, current):
        return current
    cursor = _feed_end(client, state.cursor) if use_feed else None
    for kind in wanted:
        _list(client, current, kind)
    state.covered = [kind for kind in KINDS if kind in state.covered or kind in wanted]
    state.cursor = cursor
    return current


def _list(client: Client, current: Current, kind: Kind) -> None:
    records = client.companies if kind == "companies" else client.missions
    before = dict(current.known(kind))
    current.known(kind).clear()
    for page in records.pages():
        for record in page.data:
            external_id = record.external_id
            if external_id is not None and external_id in before:
                current.known(kind)[external_id] = before[external_id]
            current.record(kind, msgspec.to_builtins(record))


def _follow(client: Client, current: Current) -> bool:
    """Apply the feed since the stored cursor; False when it cannot be followed (gone, or too
    old), so that the caller lists everything instead."""
    try:
        for page in client.event_pages(after=current.state.cursor):
            for event in page.data:
                _apply(current, event)
            current.state.cursor = page.next_cursor
    except ApiError as exc:
        if exc.status in UNFOLLOWABLE:
            return False
        raise
    return True


def _apply(current: Current, event: Event) -> None:
    kind: Kind = "companies" if event.kind == "company" else "missions"
    record = event.data.object
    if event.type == "mission.deleted":
        if record.get("external_id") is not None:
            current.forget(kind, record["external_id"])
        return
    current.record(kind, record)


def _feed_end(client: Client, after: str | None) -> str | None:
    """The feed's current end, to follow from on the next run; None without a feed."""
    cursor = after
    try:
        for page in client.event_pages(after=after):
            cursor = page.next_cursor
    except ApiError as exc:
        if exc.status in UNFOLLOWABLE and after is not None:
            return _feed_end(client, None)
        if exc.status in UNFOLLOWABLE:
            return None
        raise
    return cursor

"""What a run will do: the lines to send, the missions to take down, and the rest left as is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crosspath_client.sync.compare import expected, fingerprint
from crosspath_client.sync.current import Current
from crosspath_client.sync.inputs import Export, Kind


@dataclass
class Send:
    external_id: str
    line: dict[str, Any]
    sent: str  # the line's fingerprint
    creating: bool


@dataclass
class TakeDown:
    external_id: str
    id: str
    action: str  # "delete" (private) or "close" (live)


@dataclass
class KindPlan:
    kind: Kind
    send: list[Send] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    take_down: list[TakeDown] = field(default_factory=list)
    withheld: bool = False  # removals not made: some line could not be read

    def count(self, what: str) -> int:
        if what in ("created", "updated"):
            return sum(item.creating == (what == "created") for item in self.send)
        if what == "unchanged":
            return len(self.unchanged)
        action = {"deleted": "delete", "closed": "close"}[what]
        return sum(item.action == action for item in self.take_down)


def plan(export: Export, current: Current) -> KindPlan:
    kind = export.kind
    known = current.known(kind)
    bodies = current.bodies[kind]
    company_ids = {key: entry.id for key, entry in current.known("companies").items()}
    result = KindPlan(kind, withheld=not export.complete)
    for external_id, line in export.records.items():
        sent = fingerprint(line)
        entry = known.get(external_id)
        if entry is None:
            result.send.append(Send(external_id, line, sent, creating=True))
        elif entry.unchanged_since_sent(sent) or (
            external_id in bodies and bodies[external_id] == expected(kind, line, company_ids)
        ):
            entry.sent, entry.answered = sent, entry.seen
            result.unchanged.append(external_id)
        else:
            result.send.append(Send(external_id, line, sent, creating=False))
    if kind == "missions" and export.complete:
        result.take_down = _take_down(export, current)
    return result


def _take_down(export: Export, current: Current) -> list[TakeDown]:
    """The partner's missions no longer in the file: a private one is deleted, a live one
    closed, a closed one left as it is. A company is never deleted."""
    keep = set(export.records) | export.protected
    actions = {"private": "delete", "live": "close"}
    return [
        TakeDown(external_id, entry.id, actions[entry.status or ""])
        for external_id, entry in current.known("missions").items()
        if external_id not in keep and (entry.status or "") in actions
    ]

"""Carrying out a plan: lines sent in batches of 100, then missions taken down one by one; the
state saved after each step, so that an interrupted run loses nothing it did."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from crosspath_client.client import Client, Records, chunks
from crosspath_client.errors import ApiError
from crosspath_client.records import ItemResult
from crosspath_client.sync.compare import fingerprint
from crosspath_client.sync.current import Current
from crosspath_client.sync.plan import KindPlan, Send, TakeDown

COUNTS = ("created", "updated", "unchanged", "deleted", "closed", "failed")


@dataclass
class Failure:
    external_id: str | None
    error: str


@dataclass
class Outcome:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)

    def add(self, kind: str, what: str, n: int = 1) -> None:
        counts = self.counts.setdefault(kind, dict.fromkeys(COUNTS, 0))
        counts[what] += n

    def fail(self, kind: str, external_id: str | None, error: str) -> None:
        self.add(kind, "failed")
        self.failures.append(Failure(external_id, error))


class Applier:
    def __init__(
        self,
        client: Client,
        current: Current,
        outcome: Outcome,
        save: Callable[[], None],
        progress: Callable[[str, int, int], None],
    ) -> None:
        self.client = client
        self.current = current
        self.outcome = outcome
        self.save = save
        self.progress = progress
        # Retries of a batch within this run replay its answer; another run sends its own
        # keys, since replaying an older run's answer could hide a change made since.
        self.run = uuid.uuid4().hex[:12]

    def apply(self, plan: KindPlan) -> None:
        kind = plan.kind
        self.outcome.add(kind, "unchanged", len(plan.unchanged))
        records = self.client.companies if kind == "companies" else self.client.missions
        done = 0
        for batch in chunks(plan.send, body=lambda item: item.line):
            self._batch(records, plan, batch)
            done += len(batch)
            self.progress(kind, done, len(plan.send) + len(plan.take_down))
        for index, item in enumerate(plan.take_down, start=1):
            self._take_down(item)
            if index % 20 == 0 or index == len(plan.take_down):
                self.save()
            self.progress(kind, done + index, len(plan.send) + len(plan.take_down))

    def _batch(self, records: Records[Any], plan: KindPlan, batch: list[Send]) -> None:
        items = [item.line for item in batch]
        key = f"crosspath-sync-{self.run}-{fingerprint(items)}"
        try:
            answer = records.batch(items, idempotency_key=key)
        except ApiError as exc:
            for item in batch:
                self.outcome.fail(plan.kind, item.external_id, exc.message)
            return
        for item, result in zip(batch, answer.results, strict=True):
            self._written(plan, item, result)
        self.save()

    def _written(self, plan: KindPlan, item: Send, result: ItemResult) -> None:
        if result.error is not None or result.record is None:
            self.outcome.fail(plan.kind, item.external_id, result.error or "refused")
            return
        before = self.current.known(plan.kind).get(item.external_id)
        entry = self.current.record(plan.kind, msgspec.to_builtins(result.record))
        assert entry is not None
        entry.sent, entry.answered = item.sent, entry.seen
        if result.status == 201:
            self.outcome.add(plan.kind, "created")
        elif before is not None and before.seen == entry.seen:
            self.outcome.add(plan.kind, "unchanged")
        else:
            self.outcome.add(plan.kind, "updated")

    def _take_down(self, item: TakeDown, turns: int = 2) -> None:
        """Delete a private mission or close a live one; if CrossPath changed its status
        meanwhile, the other way."""
        missions = self.client.missions
        try:
            if item.action == "delete":
                missions.delete(item.id)
            else:
                closed = missions.close(item.id)
                self.current.record("missions", msgspec.to_builtins(closed))
        except ApiError as exc:
            if exc.status == 404:  # gone already
                self.current.forget("missions", item.external_id)
                self.outcome.add("missions", "deleted")
            elif exc.status in (403, 409) and turns > 1:
                other = "close" if item.action == "delete" else "delete"
                self._take_down(TakeDown(item.external_id, item.id, other), turns - 1)
            else:
                self.outcome.fail("missions", item.external_id, exc.message)
            return
        if item.action == "delete":
            self.current.forget("missions", item.external_id)
        self.outcome.add("missions", "deleted" if item.action == "delete" else "closed")

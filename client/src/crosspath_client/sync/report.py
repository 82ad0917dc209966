"""What a run tells: the plan of a dry run, the summary (for a person, or `--json`), progress."""

from __future__ import annotations

import sys
from typing import Any, TextIO

import msgspec

from crosspath_client.sync.apply import COUNTS, Outcome
from crosspath_client.sync.inputs import KINDS
from crosspath_client.sync.plan import KindPlan

FIRST = 5  # items shown per kind and action in a dry run's plan


def document(outcome: Outcome) -> dict[str, Any]:
    return {
        **{kind: outcome.counts.get(kind, dict.fromkeys(COUNTS, 0)) for kind in KINDS},
        "failures": [{"external_id": f.external_id, "error": f.error} for f in outcome.failures],
    }


def print_json(outcome: Outcome, out: TextIO) -> None:
    out.write(msgspec.json.encode(document(outcome)).decode() + "\n")


PLANNED = {"created": "to create", "updated": "to update", "deleted": "to delete",
           "closed": "to close"}  # fmt: skip


def print_summary(outcome: Outcome, out: TextIO, dry_run: bool) -> None:
    for kind in KINDS:
        counts = outcome.counts.get(kind, dict.fromkeys(COUNTS, 0))
        words = {what: PLANNED.get(what, what) if dry_run else what for what in COUNTS}
        parts = ", ".join(f"{counts[what]} {words[what]}" for what in COUNTS)
        out.write(f"{kind}: {parts}\n")
    if outcome.failures:
        out.write(f"{len(outcome.failures)} refused:\n")
        for failure in outcome.failures:
            out.write(f"  {failure.external_id or '(no external_id)'}: {failure.error}\n")


def print_plan(plans: list[KindPlan], out: TextIO) -> None:
    for plan in plans:
        groups = {
            "create": [s.external_id for s in plan.send if s.creating],
            "update": [s.external_id for s in plan.send if not s.creating],
            "delete": [t.external_id for t in plan.take_down if t.action == "delete"],
            "close": [t.external_id for t in plan.take_down if t.action == "close"],
            "leave unchanged": plan.unchanged,
        }
        for action, ids in groups.items():
            if ids:
                shown = ", ".join(ids[:FIRST]) + (", ..." if len(ids) > FIRST else "")
                out.write(f"{plan.kind}: {action} {len(ids)}: {shown}\n")
        if plan.withheld:
            out.write(f"{plan.kind}: nothing taken down, since some lines name no external_id\n")


class Progress:
    """`kind: done/total` on one line of a terminal; nothing when stderr is not one."""

    def __init__(self, out: TextIO = sys.stderr) -> None:
        self.out = out
        self.shown = out.isatty()

    def __call__(self, kind: str, done: int, total: int) -> None:
        if self.shown:
            self.out.write(f"\r{kind}: {done}/{total} written")
            if done == total:
                self.out.write("\n")
            self.out.flush()

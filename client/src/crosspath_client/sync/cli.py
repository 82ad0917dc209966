"""crosspath-sync --url URL [--companies FILE] [--missions FILE] [--state FILE] [--dry-run] [--json]

Exit status: 0 when every item went through, 1 when any was refused (or a line could not be
read), 2 when the run could not be made (no key, service unreachable, a refused call), 130 when
interrupted; run the same command again to finish.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from crosspath_client.client import Client
from crosspath_client.errors import CrossPathError
from crosspath_client.sync import current as reading
from crosspath_client.sync import inputs, report
from crosspath_client.sync.apply import Applier, Outcome
from crosspath_client.sync.inputs import Export, Kind
from crosspath_client.sync.plan import KindPlan, plan
from crosspath_client.sync.state import State, StateFile
from crosspath_client.transport import base_url
from crosspath_client.version import __version__


def parser() -> argparse.ArgumentParser:
    command = argparse.ArgumentParser(
        prog="crosspath-sync",
        description="Make your companies and missions on CrossPath match your JSON Lines files. "
        "The API key is read from CROSSPATH_API_KEY.",
    )
    command.add_argument("--url", required=True, help="the service, e.g. https://api.example")
    command.add_argument(
        "--companies", type=Path, metavar="FILE", help="companies, one JSON object a line"
    )
    command.add_argument(
        "--missions", type=Path, metavar="FILE", help="missions, one JSON object a line"
    )
    command.add_argument(
        "--state", type=Path, metavar="FILE", help="where to keep what the next run needs"
    )
    command.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    command.add_argument("--json", action="store_true", help="print the summary as JSON")
    command.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return command


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    key = os.environ.get("CROSSPATH_API_KEY", "").strip()
    if not key:
        return _fatal("Set CROSSPATH_API_KEY to your CrossPath API key.")
    if args.companies is None and args.missions is None:
        return _fatal("Nothing to sync: give --companies FILE, --missions FILE or both.")
    try:
        exports = [inputs.read(path, kind) for kind, path in _files(args) if path is not None]
    except OSError as exc:
        return _fatal(f"Cannot read {exc.filename}: {exc.strerror}.")
    outcome = Outcome()
    for export in exports:
        for problem in export.invalid:
            outcome.fail(export.kind, problem.external_id, f"{export.kind} file {problem.error}")
    try:
        state_file = StateFile(args.state, base_url(args.url), key)
    except ValueError as exc:
        return _fatal(str(exc))
    with Client(args.url, key) as client:
        state = state_file.load()
        try:
            return _run(client, args, exports, outcome, state_file, state)
        except KeyboardInterrupt:
            _keep(state_file, state, args)
            print("Interrupted: run the same command again to finish.", file=sys.stderr)
            return 130
        except CrossPathError as exc:
            _keep(state_file, state, args)
            return _fatal(str(exc))


def _run(
    client: Client,
    args: argparse.Namespace,
    exports: list[Export],
    outcome: Outcome,
    state_file: StateFile,
    state: State,
) -> int:
    kinds: list[Kind] = ["companies", "missions"] if args.missions else ["companies"]
    current = reading.read(client, state, kinds, use_feed=args.state is not None)
    if args.dry_run:
        plans = [plan(export, current) for export in exports]
        for kind_plan in plans:
            _planned(kind_plan, outcome)
        report.print_plan(plans, sys.stdout if not args.json else sys.stderr)
    else:
        applier = Applier(client, current, outcome, lambda: state_file.save(state), _progress())
        for export in exports:  # companies first: missions may name the ones just created
            applier.apply(plan(export, current))
        state_file.save(state)
    _print(outcome, sys.stdout, args)
    return 1 if outcome.failures else 0


def _keep(state_file: StateFile, state: State, args: argparse.Namespace) -> None:
    """What a stopped run learnt is kept for the next (a dry run writes nothing, not even it)."""
    if not args.dry_run:
        state_file.save(state)


def _files(args: argparse.Namespace) -> list[tuple[Kind, Path | None]]:
    return [("companies", args.companies), ("missions", args.missions)]


def _planned(kind_plan: KindPlan, outcome: Outcome) -> None:
    for what in ("created", "updated", "unchanged", "deleted", "closed"):
        outcome.add(kind_plan.kind, what, kind_plan.count(what))


def _print(outcome: Outcome, out: TextIO, args: argparse.Namespace) -> None:
    if args.json:
        report.print_json(outcome, out)
    else:
        report.print_summary(outcome, out, args.dry_run)


def _progress() -> report.Progress:
    return report.Progress(sys.stderr)


def _fatal(message: str) -> int:
    print(f"crosspath-sync: {message}", file=sys.stderr)
    return 2


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()

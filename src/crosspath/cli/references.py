"""`crosspath references`: the accepted reference values."""

from __future__ import annotations

from pathlib import Path

import click
import msgspec

from crosspath.cli.context import Context, emit, json_option, pass_context, table
from crosspath.references import service as references
from crosspath.references.schema import KINDS, ReferenceFile


@click.group("references")
def references_group() -> None:
    """Accepted reference values."""


@references_group.command("list")
@click.argument("kind", required=False, type=click.Choice(KINDS))
@json_option
@pass_context
def references_list(ctx: Context, kind: str | None, as_json: bool) -> None:
    """List current values of one kind, or count the values of every kind."""
    with ctx.write() as conn:
        if kind is None:
            counts = references.count_current(conn)
            emit(as_json, counts, lambda: "\n".join(f"{k}: {n}" for k, n in counts.items()))
            return
        items = references.current(conn, kind)
    emit(as_json, items, lambda: table(items, ["code", "label", "country"]))


@references_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@pass_context
def references_load(ctx: Context, file: Path, as_json: bool) -> None:
    """Load a file {"kind", "mode": "replace" | "extend", "values": [{"code", "label"}]}."""
    try:
        data = msgspec.json.decode(file.read_bytes(), type=ReferenceFile)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise click.ClickException(f"{file} is not a valid reference file: {exc}") from None
    with ctx.write() as conn:
        counts = references.load(conn, data)
        result = {"kind": data.kind, "mode": data.mode, **counts}
        ctx.audit(conn, "references.load", data.kind, msgspec.json.encode(result).decode())
    emit(
        as_json,
        result,
        lambda: (
            f"{data.kind}: {counts['added']} added, "
            f"{counts['updated']} updated, {counts['retired']} retired."
        ),
    )

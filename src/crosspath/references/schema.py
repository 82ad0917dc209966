"""A reference value, the kinds of them, and the operators' file format."""

from __future__ import annotations

import msgspec

KINDS = ("sectors", "locations", "languages", "positions", "company_sizes")


class ReferenceItem(msgspec.Struct, omit_defaults=True):
    code: str
    label: str
    country: str | None = None


class ReferenceFile(msgspec.Struct, forbid_unknown_fields=True):
    """The operators' file: {"kind": ..., "mode": "replace" | "extend", "values": [...]}."""

    kind: str
    mode: str
    values: list[ReferenceItem]

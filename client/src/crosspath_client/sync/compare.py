"""When a line and CrossPath's record are the same.

Equal means equal after the server's normalisation. Most of it is applied here too: trimmed
single-line strings, a blank optional field as null, defaults for what is left out, currency
codes in capitals. The one part that is not, the sanitising of HTML descriptions, is why the
state file also keeps, for each record, the fingerprint of the line last sent and of what the
server answered for it: the same line against the same answer is unchanged, however the server
rewrote it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from crosspath_client.sync.inputs import Kind

FIELDS: dict[Kind, dict[str, Any]] = {
    "companies": {
        "external_id": None, "name": None, "website": None, "description": None,
        "sector": None, "size": None, "location": None,
    },
    "missions": {
        "external_id": None, "company_id": None, "title": None, "description": None,
        "position": None, "location": None, "languages": [], "contract_type": None,
        "remote_policy": None, "experience_years_min": None, "salary": None, "openings": 1,
    },
}  # fmt: skip
TEXTS = {"description"}  # long texts: not trimmed, but blank is null


def fingerprint(value: Any) -> str:
    encoded = msgspec.json.encode(value, order="sorted")
    return hashlib.sha256(encoded).hexdigest()[:32]


def content(kind: Kind, record: dict[str, Any]) -> dict[str, Any]:
    """What a sync compares of a record as the API answered it (not its id, status or times)."""
    return {name: record.get(name, default) for name, default in FIELDS[kind].items()}


def expected(kind: Kind, line: dict[str, Any], company_ids: dict[str, str]) -> dict[str, Any]:
    """The record a line should give, as far as it can be told without the server; a mission's
    company by its id, when that company is known."""
    values = {name: _clean(name, line.get(name, default)) for name, default in FIELDS[kind].items()}
    if kind == "missions" and line.get("company_external_id") is not None:
        values["company_id"] = company_ids.get(str(line["company_external_id"]).strip())
    return values


def _clean(name: str, value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            return None
        return value if name in TEXTS else value.strip()
    if name == "salary" and isinstance(value, dict):
        currency = value.get("currency")
        if isinstance(currency, str):
            return value | {"currency": currency.strip().upper()}
    if name == "languages" and isinstance(value, list):
        return [item.strip() if isinstance(item, str) else item for item in value]
    return value

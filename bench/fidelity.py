"""The sync benchmark's last step: every record on CrossPath against the partner's feed, field
by field, with the service's own normalisation applied to the feed (bench/sync.py)."""

from __future__ import annotations

from typing import Any

import msgspec
from crosspath_client import Client

from crosspath.fields import sanitize_html

COMPANY_FIELDS = ("name", "location", "description", "website")
MISSION_FIELDS = ("company_id", "title", "description", "position", "location", "languages",
                  "salary", "remote_policy", "openings")  # fmt: skip


def compare(
    url: str,
    key: str,
    companies: dict[str, dict[str, Any]],
    missions: dict[str, dict[str, Any]],
    published: set[str],
) -> dict[str, Any]:
    """Differences: a feed record missing or not equal on CrossPath; a removed JD that is still
    up (published: not closed; never published: not deleted). Duplicates: missions on CrossPath
    beyond one per external id, or without one."""
    with Client(url, key) as client:
        stored_companies = {c.external_id: c for c in client.companies.list()}
        stored_missions = list(client.missions.list())
    ids = {external_id: record.id for external_id, record in stored_companies.items()}
    stored = {m.external_id: m for m in stored_missions}
    differences = [
        external_id
        for external_id, line in companies.items()
        if external_id not in stored_companies
        or _fields(stored_companies[external_id], COMPANY_FIELDS) != _company_expected(line)
    ]
    differences += [
        external_id
        for external_id, line in missions.items()
        if external_id not in stored
        or _fields(stored[external_id], MISSION_FIELDS) != _mission_expected(line, ids)
    ]
    removed = [m for m in stored_missions if m.external_id not in missions]
    still_up = [
        str(m.external_id)
        for m in removed
        if m.status != "closed" or m.external_id not in published
    ]
    unnamed = sum(m.external_id is None for m in stored_missions)
    return {
        "missions on CrossPath": len(stored_missions),
        "missions in the feed": len(missions),
        "removed and closed": len(removed) - len(still_up),
        "removed but still up": len(still_up),
        "duplicates": len(stored_missions) - len(stored) + unnamed,
        "differences": len(differences) + len(still_up),
        "examples": (differences + still_up)[:5],
    }


def _fields(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    value = msgspec.to_builtins(record)
    return {name: value[name] for name in names}


def _company_expected(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": line["name"].strip(),
        "location": line["location"],
        "description": sanitize_html(line["description"]),
        "website": None,
    }


def _mission_expected(line: dict[str, Any], company_ids: dict[Any, str]) -> dict[str, Any]:
    return {
        "company_id": company_ids.get(line["company_external_id"]),
        "title": line["title"].strip(),
        "description": sanitize_html(line["description"]),
        "position": line["position"],
        "location": line["location"],
        "languages": line["languages"],
        "salary": line["salary"] | {"currency": "EUR"},
        "remote_policy": line["remote_policy"],
        "openings": 1,
    }

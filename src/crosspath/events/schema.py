"""What the change feed answers, for the document: an event and a page of them."""

from __future__ import annotations

from typing import Any

from crosspath.api.schemas import ref
from crosspath.events.service import MAX_LIMIT
from crosspath.store.feed import ACTORS, EVENT_TYPES

EVENT_QUERY: dict[str, tuple[dict[str, Any], str]] = {
    "after": (
        {"type": "string", "minLength": 1},
        "The `next_cursor` of your last page: only the events after it.",
    ),
    "limit": (
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": MAX_LIMIT},
        "Page size.",
    ),
}


def event_schemas() -> dict[str, Any]:
    deleted = {
        "type": "object",
        "title": "DeletedRecord",
        "description": "What is left of a deleted record: its ids.",
        "properties": {"id": {"type": "string"}, "external_id": {"type": ["string", "null"]}},
        "required": ["id", "external_id"],
        "additionalProperties": False,
    }
    data = {
        "type": "object",
        "properties": {
            "object": {
                "oneOf": [ref("Company"), ref("Mission"), ref("DeletedRecord")],
                "description": "The record as it is after the change (`company.*`: a company, "
                "`mission.*`: a mission); for `mission.deleted`, its ids.",
            },
            "changed": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The fields the change set: every field on a creation, none "
                "on a deletion.",
            },
            "reason": {
                "type": "string",
                "description": "Why CrossPath made the change, when its operator said.",
            },
        },
        "required": ["object", "changed"],
        "additionalProperties": False,
    }
    event = {
        "type": "object",
        "title": "Event",
        "description": "One committed change to one of your records. Webhooks send exactly this.",
        "properties": {
            "id": {"type": "string", "pattern": "^evt_[0-9A-HJKMNP-TV-Z]{26}$"},
            "type": ref("EventType"),
            "created_at": {"type": "string", "format": "date-time"},
            "actor": ref("EventActor"),
            "data": ref("EventData"),
        },
        "required": ["id", "type", "created_at", "actor", "data"],
        "additionalProperties": False,
    }
    page = {
        "type": "object",
        "title": "EventPage",
        "properties": {
            "data": {"type": "array", "items": ref("Event")},
            "next_cursor": {
                "type": "string",
                "minLength": 1,
                "description": "Never null: send it as `after` to get what comes next, now or "
                "later.",
            },
            "has_more": {
                "type": "boolean",
                "description": "More events are waiting: ask again at once.",
            },
        },
        "required": ["data", "next_cursor", "has_more"],
        "additionalProperties": False,
    }
    types = {"type": "string", "title": "EventType", "enum": list(EVENT_TYPES)}
    actors = {
        "type": "string",
        "title": "EventActor",
        "enum": list(ACTORS),
        "description": "`partner`: your own write; `crosspath`: CrossPath's review.",
    }
    return {
        "Event": event,
        "EventData": data,
        "DeletedRecord": deleted,
        "EventPage": page,
        "EventType": types,
        "EventActor": actors,
    }

"""The shared pieces the features' sections build their part of the OpenAPI document with."""

from __future__ import annotations

from typing import Any

import msgspec

from crosspath.fields import Line


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def page_schema(struct: type[msgspec.Struct], item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "title": struct.__name__,
        "properties": {
            "data": {"type": "array", "items": ref(item)},
            "next_cursor": {
                "type": ["string", "null"],
                "minLength": 1,
                "description": "Send it as `cursor` for the next page; null on the last page.",
            },
        },
        "required": ["data", "next_cursor"],
        "additionalProperties": False,
    }


MAX_BATCH = 100
BATCH_SUMMARY = {
    "type": "object",
    "title": "BatchSummary",
    "description": "How many items were created, replaced, already as sent, and refused.",
    "properties": {
        name: {"type": "integer", "minimum": 0}
        for name in ("created", "updated", "unchanged", "failed")
    },
    "required": ["created", "updated", "unchanged", "failed"],
    "additionalProperties": False,
}
BATCH_ITEM_ERROR = {
    "type": "object",
    "title": "BatchItemError",
    "description": "An item refused as the same PUT would be; it changed nothing.",
    "properties": {
        "external_id": {"type": "string", "minLength": 1},
        "status": {
            "type": "integer",
            "minimum": 400,
            "maximum": 499,
            "description": "The status the same PUT would answer: 400, 403 or 409.",
        },
        "error": {"type": "string", "description": "The message the PUT would answer."},
    },
    "required": ["external_id", "status", "error"],
    "additionalProperties": False,
}


def batch_item(full: dict[str, Any]) -> dict[str, Any]:
    """A batch item: the PUT body, with its `external_id` required (and not null)."""
    required = [name for name in full.get("required", ()) if name != "external_id"]
    external_id = TEXT_FILTER | {"description": "Your own id for it: the item's key."}
    properties = full["properties"] | {"external_id": external_id}
    return full | {"properties": properties, "required": ["external_id", *required]}


def batch_schema(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"1 to {MAX_BATCH} items, each with its own distinct `external_id`.",
        "properties": {
            "items": {
                "type": "array",
                "items": ref(item),
                "minItems": 1,
                "maxItems": MAX_BATCH,
            }
        },
        "required": ["items"],
        "additionalProperties": False,
    }


def written_schema(noun: str, record: str) -> dict[str, Any]:
    """A batch item applied: 201 created, 200 replaced or already as sent, with the record."""
    return {
        "type": "object",
        "properties": {
            "external_id": {"type": "string", "minLength": 1},
            "status": {
                "type": "integer",
                "minimum": 200,
                "maximum": 201,
                "description": "201 created; 200 replaced, or already as sent.",
            },
            noun: ref(record),
        },
        "required": ["external_id", "status", noun],
        "additionalProperties": False,
    }


def batch_result_schema(written: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "One result per item, in the order of the items.",
        "properties": {
            "results": {
                "type": "array",
                "items": {"oneOf": [ref(written), ref("BatchItemError")]},
            },
            "summary": ref("BatchSummary"),
        },
        "required": ["results", "summary"],
        "additionalProperties": False,
    }


_LINE = Line(100).schema()["pattern"]
TEXT_FILTER = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": _LINE}
EXTERNAL_ID_PATH = TEXT_FILTER
# The query parameters of every list; a section adds its own filters.

"""A resource's fields, declared once: on its response Struct, each annotated with its checker.

From that one declaration come the validation of bodies, the JSON schemas of the OpenAPI
document (here), and the columns and statements of its rows (`store.resource`). Adding a field
is one line on the Struct and one migration.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import msgspec

from crosspath.fields import Invalid, Problems, Spec, parse_fields


class ReadOnly:
    """Marks a field the server sets (`id`, timestamps); sending it is a 400."""


READ_ONLY = ReadOnly()
Timestamp = Annotated[
    str,
    READ_ONLY,
    msgspec.Meta(
        extra_json_schema={"format": "date-time", "examples": ["2026-11-28T12:30:00.123456Z"]}
    ),
]
Id = Annotated[str, READ_ONLY]


def _nullable(hint: Any) -> bool:
    return get_origin(hint) in (Union, types.UnionType) and type(None) in get_args(hint)


def struct_of(hint: Any) -> type[msgspec.Struct] | None:
    for arg in get_args(hint) or (hint,):
        if isinstance(arg, type) and issubclass(arg, msgspec.Struct):
            return arg
    return None


@functools.cache  # a nested Struct's fields are asked for on every body that has it
def declared(struct: type[msgspec.Struct]) -> tuple[dict[str, Spec], tuple[str, ...]]:
    """The writable fields of a Struct (their Spec, nullability from the type) and the
    read-only ones. Shared: not to be changed by the caller."""
    specs: dict[str, Spec] = {}
    read_only: list[str] = []
    for name, hint in get_type_hints(struct, include_extras=True).items():
        metadata = getattr(hint, "__metadata__", ())
        base = get_args(hint)[0] if metadata else hint
        if any(isinstance(meta, ReadOnly) for meta in metadata):
            read_only.append(name)
        for meta in metadata:
            if isinstance(meta, Spec):
                specs[name] = dataclasses.replace(meta, nullable=_nullable(base))
    return specs, tuple(read_only)


@dataclasses.dataclass(frozen=True)
class Nested:
    """An object of a nested Struct's declared fields, all-or-nothing, replaced as a whole."""

    struct: type[msgspec.Struct]
    rule: Callable[[dict[str, Any]], str | None] = lambda _: None
    path: str = ""

    def __call__(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise Invalid("must be an object or null")
        specs, _ = declared(self.struct)
        problems = Problems()
        present = {key: item for key, item in value.items() if item is not None}
        cleaned = parse_fields(present, specs, problems, creating=True)
        if not problems.messages and (broken := self.rule(cleaned)):
            problems.add(broken)
        if problems.messages:
            raise Invalid(nested=[f"{self.path}.{message}" for message in problems.messages])
        return cleaned

    def schema(self) -> dict[str, Any]:
        return struct_schema(self.struct, {})


def spec_schema(
    specs: Mapping[str, Spec], *, required: bool, names: Mapping[Any, str] | None = None
) -> dict[str, Any]:
    """The JSON schema of an object of these fields; `required` lists the required ones.

    `names` maps a checker (a `Choice`) or a nested Struct to the component schema that
    describes it, referenced with `$ref` instead of repeated inline.
    """
    properties = {name: field_schema(spec, names or {}) for name, spec in specs.items()}
    if not required:
        # A patch leaves out what it does not change: a default there would overwrite it.
        for schema in properties.values():
            schema.pop("default", None)
    result: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    wanted = [name for name, spec in specs.items() if spec.required]
    if required and wanted:
        result["required"] = wanted
    return result


def field_schema(spec: Spec, names: Mapping[Any, str]) -> dict[str, Any]:
    """One declared field's schema, as the checker describes it."""
    check = spec.check
    named = names.get(check.struct if isinstance(check, Nested) else check)
    schema = {"$ref": f"#/components/schemas/{named}"} if named else dict(check.schema())
    if not spec.nullable and schema.get("type") == "string" and "enum" not in schema:
        schema["minLength"] = 1  # blank is refused, as null is
    if spec.nullable:
        if "$ref" in schema or "enum" in schema or "type" not in schema:
            # A nullable enum or object is "that, or null", never a copy with null inside.
            schema = {"anyOf": [schema, {"type": "null"}]}
        else:
            schema["type"] = [schema["type"], "null"]
    if spec.description:
        schema["description"] = spec.description
    if spec.example is not None:
        schema["examples"] = [spec.example]
    if spec.default is not None:
        schema["default"] = spec.default
    return schema


def struct_schema(struct: type[msgspec.Struct], names: Mapping[Any, str]) -> dict[str, Any]:
    """The schema of a record as the service answers it, every field present: the writable
    fields as their checkers describe them, the read-only ones from their annotation."""
    specs, _ = declared(struct)
    hints = get_type_hints(struct, include_extras=True)
    properties: dict[str, Any] = {}
    for name in struct.__struct_fields__:
        if name in specs:
            schema = field_schema(specs[name], names)
            schema.pop("default", None)
        else:
            schema = msgspec.json.schema(hints[name]) | {"readOnly": True}
        properties[name] = schema
    return {
        "type": "object",
        "title": struct.__name__,
        "properties": properties,
        "required": list(struct.__struct_fields__),
        "additionalProperties": False,
    }


def one_of_required(schema: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """An object schema in which exactly one of `names` must be sent. JSON Schema's `oneOf`
    would say it, but client generators then lose the model: the rule is `not` both, and a
    description, and each of them optional."""
    required = [name for name in schema.get("required", []) if name not in names]
    result = {key: value for key, value in schema.items() if key != "required"}
    if required:
        result["required"] = required
    listed = " or ".join(f"`{name}`" for name in names)
    result["description"] = f"Send exactly one of {listed}."
    return not_both(result, names)


def not_both(schema: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """An object schema in which at most one of `names` is sent."""
    return schema | {"not": {"required": list(names)}}

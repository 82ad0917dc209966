"""The field checkers: each cleans one value of partner input or says what is wrong with it.

A resource declares each of its fields once, with one of these (see `records`); the same
checker validates bodies and describes the field in the OpenAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import nh3

from crosspath.errors import FieldErrors

# Every Unicode control character (C0, DEL and C1); long texts keep tab, line feed and CR.
_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)
# The same rules as JSON Schema patterns, for the OpenAPI document.
_LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
_URL_PATTERN = (
    "^[^\\S\\u0000-\\u001f\\u007f-\\u009f]*"
    "([hH][tT][tT][pP][sS]?://[^\\s/$.?#\\u0000-\\u001f\\u007f-\\u009f]"
    "[^\\s\\u0000-\\u001f\\u007f-\\u009f]*)?"
    "[^\\S\\u0000-\\u001f\\u007f-\\u009f]*$"
)
_TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"

HTML_TAGS = {
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "ul", "ol", "li", "strong", "em",
    "b", "i", "u", "a", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
    "blockquote",
}  # fmt: skip


class Invalid(Exception):
    """Raised by a checker: the field's value is wrong; the message says how.

    A checker of an object reports each of its own fields' problems, by JSON path, in `nested`.
    """

    def __init__(self, message: str = "", nested: list[str] | None = None) -> None:
        super().__init__(message)
        self.nested = nested or []


@dataclass
class Problems:
    messages: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.messages.append(message)

    def raise_if_any(self) -> None:
        if self.messages:
            raise FieldErrors(self.messages)


@dataclass(frozen=True)
class Line:
    """A single-line string, stored trimmed."""

    max_length: int
    description: str = ""

    def __call__(self, value: Any) -> str | None:
        if not isinstance(value, str):
            raise Invalid("must be a string")
        if _LINE_FORBIDDEN.search(value):
            raise Invalid("must not contain control characters or line breaks")
        value = value.strip()
        if len(value) > self.max_length:
            raise Invalid(f"must be at most {self.max_length} characters")
        return value or None

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_length, "pattern": _LINE_PATTERN}


@dataclass(frozen=True)
class Text:
    """A multi-line text: tabs and line breaks allowed, other control characters refused."""

    max_length: int
    html: bool = False

    def __call__(self, value: Any) -> str | None:
        if not isinstance(value, str):
            raise Invalid("must be a string")
        if _TEXT_FORBIDDEN.search(value):
            raise Invalid("must not contain control characters other than tab and line breaks")
        if len(value) > self.max_length:
            raise Invalid(f"must be at most {self.max_length} characters")
        if self.html:
            # The limit holds for what is stored, so that re-sending any returned value works.
            value = sanitize_html(value)
            if len(value) > self.max_length:
                raise Invalid(
                    f"must be at most {self.max_length} characters once its HTML is made safe "
                    f"(it became {len(value)}: characters such as & and < are escaped)"
                )
        return value if value.strip() else None

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.max_length, "pattern": _TEXT_PATTERN}


@dataclass(frozen=True)
class Url:
    max_length: int

    def __call__(self, value: Any) -> str | None:
        text = Line(self.max_length)(value)
        if text is not None and _URL.fullmatch(text) is None:
            raise Invalid("must be an http or https URL")
        return text

    def schema(self) -> dict[str, Any]:
        # Blank (padding around nothing) means null, as in every optional text field.
        return {
            "type": "string",
            "maxLength": self.max_length,
            "pattern": _URL_PATTERN,
            "description": "An http or https URL; an empty or blank string means null.",
        }


@dataclass(frozen=True)
class Integer:
    minimum: int
    maximum: int

    def __call__(self, value: Any) -> int:
        # JSON Schema counts 43.0 as an integer: an integral number is one, stored as an int.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise Invalid("must be an integer")
        if not self.minimum <= value <= self.maximum:
            raise Invalid(f"must be between {self.minimum} and {self.maximum}")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}


@dataclass(frozen=True)
class Choice:
    values: tuple[str, ...]

    def __call__(self, value: Any) -> str:
        if not isinstance(value, str) or value.strip() not in self.values:
            raise Invalid(f"must be one of: {', '.join(self.values)}")
        return value.strip()

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.values)}


@dataclass(frozen=True)
class Choices:
    """A set of choices, sent as an array without duplicates."""

    values: tuple[str, ...]

    def __call__(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not value:
            raise Invalid("must be a non-empty array")
        chosen = [Choice(self.values)(item) for item in value]
        if len(set(chosen)) != len(chosen):
            raise Invalid("must not contain duplicates")
        return chosen

    def schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {"type": "string", "enum": list(self.values)},
            "minItems": 1,
            "uniqueItems": True,
        }


@dataclass(frozen=True)
class Flag:
    def __call__(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise Invalid("must be true or false")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Code:
    """A code from a reference set; whether it is accepted is checked against the database."""

    kind: str

    def __call__(self, value: Any) -> str | None:
        return Line(100)(value)

    def schema(self) -> dict[str, Any]:
        return {
            "type": "string",
            "maxLength": 100,
            "pattern": _LINE_PATTERN,
            "description": f"A code from GET /references/{self.kind}.",
        }


@dataclass(frozen=True)
class Codes:
    kind: str
    max_items: int

    def __call__(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise Invalid("must be an array of strings")
        if len(value) > self.max_items:
            raise Invalid(f"must have at most {self.max_items} items")
        codes = [Code(self.kind)(item) for item in value]
        if None in codes:
            raise Invalid("must not contain blank strings")
        if len(set(codes)) != len(codes):
            raise Invalid("must not contain duplicates")
        return [code for code in codes if code is not None]

    def schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": _LINE_PATTERN},
            "maxItems": self.max_items,
            "uniqueItems": True,
            "description": f"Codes from GET /references/{self.kind}.",
        }


@dataclass(frozen=True)
class Spec:
    """One writable field: its checker and how it may be sent."""

    check: Any
    required: bool = False
    nullable: bool = True
    description: str = ""
    example: Any = None
    default: Any = None


def parse_fields(
    body: Mapping[str, Any],
    specs: Mapping[str, Spec],
    problems: Problems,
    *,
    creating: bool,
    read_only: tuple[str, ...] = (),
    provided: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The cleaned value of every field present in `body`; problems are collected, not raised.

    A field in `provided` is given another way (a mission's company by its external id), so it
    is not required in `body`."""
    values: dict[str, Any] = {}
    for name in body:
        if name in read_only:
            problems.add(f"{name} is read-only")
        elif name not in specs:
            problems.add(f"{name} is not a known field")
    for name, spec in specs.items():
        if name not in body:
            if creating and spec.required and name not in provided:
                problems.add(f"{name} is required")
            continue
        value = body[name]
        if value is None:
            if spec.nullable:
                values[name] = None
            else:
                problems.add(f"{name} must not be null")
            continue
        try:
            cleaned = spec.check(value)
        except Invalid as exc:
            for message in exc.nested or [f"{name} {exc}"]:
                problems.add(message)
            continue
        if cleaned is None and not spec.nullable:
            problems.add(f"{name} must not be blank")
            continue
        values[name] = cleaned
    return values


def sanitize_html(fragment: str) -> str:
    """Keep headings, paragraphs, lists, emphasis, links, line breaks and tables; drop the rest."""
    return nh3.clean(
        fragment,
        tags=HTML_TAGS,
        attributes={
            "a": {"href", "title"},
            "th": {"colspan", "rowspan"},
            "td": {"colspan", "rowspan"},
        },
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )

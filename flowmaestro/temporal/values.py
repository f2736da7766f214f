"""Application values (arguments, results, custom data) as the JSON an event carries."""

from __future__ import annotations

from typing import Any

from pydantic import JsonValue
from pydantic_core import PydanticSerializationError, to_json, to_jsonable_python


def json_size(value: JsonValue) -> int:
    return len(to_json(value))


def jsonable(value: Any, max_bytes: int) -> JsonValue:
    """`value` as JSON (models, dataclasses, dates... as pydantic dumps them); a value over
    `max_bytes` (`Limits.max_event_data_bytes`) or not JSON becomes a note saying so."""
    try:
        plain: JsonValue = to_jsonable_python(value)
    except PydanticSerializationError:
        return {"unserializable": type(value).__name__}
    size = json_size(plain)
    if size > max_bytes:
        return {"truncated": True, "bytes": size}
    return plain


def as_object(value: JsonValue) -> dict[str, JsonValue]:
    """An event's object-valued field (`inputs`, `outputs`) from any JSON value."""
    return value if isinstance(value, dict) else {"value": value}

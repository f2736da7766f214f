"""The discriminated union of all events and its one module-level TypeAdapter."""

from __future__ import annotations

import typing
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from flowmaestro.events.catalogue import Event
from flowmaestro.events.errors import InvalidEventError

AnyEvent = Annotated[Event, Field(discriminator="type")]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(AnyEvent)

EVENT_TYPES: tuple[str, ...] = tuple(
    model.model_fields["type"].default for model in typing.get_args(Event)
)


def parse_event(raw: dict[str, Any] | str | bytes) -> Event:
    """Validate a wire dict or JSON text into its event model.

    Raises InvalidEventError naming the first bad field (camelCase, dotted), e.g. `data.nodeId`.
    """
    try:
        if isinstance(raw, str | bytes):
            return EVENT_ADAPTER.validate_json(raw)
        return EVENT_ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise invalid_event(exc) from exc


def invalid_event(exc: ValidationError, *within: str) -> InvalidEventError:
    """Translate pydantic's error into ours, naming the field (under `within`, the path of
    the model that failed)."""
    errors = exc.errors(include_url=False, include_context=False)
    first = errors[0]
    # The union's tag shows up as a path element (e.g. `node:completed`); clients name fields.
    loc = [*within, *(str(p) for p in first["loc"] if str(p) not in EVENT_TYPES)]
    return InvalidEventError(".".join(loc) or "type", first["msg"], [dict(e) for e in errors])

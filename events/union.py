"""The discriminated union of all events and its one module-level TypeAdapter.

The catalogue's types are tags of their own; every `app:<name>` shares the tag `app`.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, Union

from pydantic import Discriminator, Tag, TypeAdapter, ValidationError

from flowmaestro.events.catalogue import AppEvent, CatalogueEvent, Event
from flowmaestro.events.catalogue.app import APP_PREFIX, is_app_type
from flowmaestro.events.errors import InvalidEventError

_APP_TAG = "app"

EVENT_TYPES: tuple[str, ...] = tuple(
    model.model_fields["type"].default for model in typing.get_args(CatalogueEvent)
)
"""The catalogue's closed set of types; custom events (`app:<name>`) are `is_event_type`."""


def is_event_type(type: str) -> bool:
    """Whether `type` is an event type: one of the catalogue's, or a custom `app:<name>`."""
    return type in EVENT_TYPES or is_app_type(type)


def _tag(value: Any) -> str | None:
    type = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if isinstance(type, str) and type.startswith(APP_PREFIX):
        return _APP_TAG
    return type if isinstance(type, str) else None


def _tagged() -> Any:
    members = (
        *(
            Annotated[model, Tag(model.model_fields["type"].default)]
            for model in typing.get_args(CatalogueEvent)
        ),
        Annotated[AppEvent, Tag(_APP_TAG)],
    )
    return Annotated[Union[members], Discriminator(_tag)]  # noqa: UP007 (built at run time)


AnyEvent = Annotated[Event, Discriminator(_tag)]
"""For annotations; validation goes through `EVENT_ADAPTER`."""

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(_tagged())


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
    loc = [
        *within,
        *(str(p) for p in first["loc"] if str(p) not in EVENT_TYPES and str(p) != _APP_TAG),
    ]
    return InvalidEventError(".".join(loc) or "type", first["msg"], [dict(e) for e in errors])

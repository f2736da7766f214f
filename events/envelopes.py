"""Each event's `data` in its envelope: how code outside this package builds an event.

Callers build the typed `*Data` model (a misspelt field is a mypy error) and hand it over
with the envelope's fields; the event's `type` follows from the data's class.
"""

from __future__ import annotations

import typing
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import JsonValue, ValidationError

from flowmaestro.events.catalogue import AppEvent, CatalogueEvent, Event, EventData
from flowmaestro.events.catalogue.app import APP_PREFIX
from flowmaestro.events.errors import InvalidEventError
from flowmaestro.events.union import invalid_event

if TYPE_CHECKING:
    import uuid

_ENVELOPES: dict[type[Any], type[Event]] = {
    model.model_fields["data"].annotation: model for model in typing.get_args(CatalogueEvent)
}
_DATA: dict[str, type[EventData]] = {
    model.model_fields["type"].default: data for data, model in _ENVELOPES.items()
}


def event_type(data: EventData) -> str:
    """The `type` of the events `data` is the data of, e.g. `node:failed`."""
    type_: str = _ENVELOPES[type(data)].model_fields["type"].default
    return type_


def envelope(
    data: EventData,
    *,
    id: uuid.UUID,
    user_id: str,
    execution_id: str | None = None,
    workflow_id: str | None = None,
    agent_id: str | None = None,
    knowledge_base_id: str | None = None,
) -> Event:
    """The event of `data`; InvalidEventError names a bad envelope field (e.g. `userId`)."""
    # By wire name, so an error names the field as clients do.
    fields = {
        "id": id,
        "userId": user_id,
        "executionId": execution_id,
        "workflowId": workflow_id,
        "agentId": agent_id,
        "knowledgeBaseId": knowledge_base_id,
        "data": data,
    }
    try:
        return _ENVELOPES[type(data)].model_validate(fields)
    except ValidationError as exc:
        raise invalid_event(exc) from exc


def data_json(data: EventData) -> dict[str, JsonValue]:
    """`data` in its camelCase JSON form, as `data_of` reads it back.

    Datetimes in Python's isoformat (`+00:00`, where pydantic writes `Z`): the workflow hands
    this form to activities, and recorded histories must replay with the same payloads.
    """
    return {
        k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.model_dump().items()
    }


def data_of(type: str, raw: dict[str, JsonValue]) -> EventData:
    """`raw`, the JSON form of a `type` event's data, as its model; InvalidEventError names
    the first bad field (e.g. `data.nodeId`)."""
    model = _DATA.get(type)
    if model is None:
        raise InvalidEventError("type", f"no event type {type!r}", [])
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise invalid_event(exc, "data") from exc


def app_envelope(
    name: str,
    data: dict[str, JsonValue],
    *,
    id: uuid.UUID,
    user_id: str,
    execution_id: str,
    workflow_id: str | None = None,
) -> AppEvent:
    """The custom event `app:<name>` (its data is the application's own, already checked);
    InvalidEventError names a bad field (e.g. `type` for a bad name)."""
    fields = {
        "id": id,
        "type": APP_PREFIX + name,
        "userId": user_id,
        "executionId": execution_id,
        "workflowId": workflow_id,
        "data": data,
    }
    try:
        return AppEvent.model_validate(fields)
    except ValidationError as exc:
        raise invalid_event(exc) from exc

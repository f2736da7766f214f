"""Custom events: `emit_event(name, data)` writes `app:<name>` for the current attempt's
execution, checked against the model `register_event(name, Model)` gave the name.

Ids derive from (execution, run, node, name, n-th emission of that name in the attempt),
without the attempt: a retried attempt that emits the same events again writes them once.
They reach the execution's and the owner's channels, as every event of an execution.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, JsonValue, TypeAdapter, ValidationError

from flowmaestro.events.catalogue.app import APP_PREFIX, AppEvent, is_app_type
from flowmaestro.temporal.errors import EventDataError, EventNameError, EventTooLargeError
from flowmaestro.temporal.scope import current_attempt
from flowmaestro.temporal.values import json_size

_JSON_OBJECT: TypeAdapter[dict[str, JsonValue]] = TypeAdapter(dict[str, JsonValue])


class EventRegistry:
    """Names to the models their data must satisfy."""

    def __init__(self) -> None:
        self._models: dict[str, type[BaseModel]] = {}

    def register(self, name: str, model: type[BaseModel]) -> None:
        _check_name(name)
        known = self._models.get(name)
        # The same class again is no conflict: the workflow sandbox re-imports the module
        # that registers it for each run.
        if known is not None and _qualified(known) != _qualified(model):
            raise EventNameError(f"app:{name} is registered with {_qualified(known)} already")
        self._models.setdefault(name, model)

    def models(self) -> dict[str, type[BaseModel]]:
        return dict(self._models)

    def json_schema(self) -> dict[str, Any]:
        """The registered events as JSON Schema, for typed clients: each `app:<name>` an
        envelope (`AppEvent`'s) whose `type` is that name and whose `data` is its model;
        `AppEvents` their union. json-schema-to-typescript turns it into TypeScript."""
        names = sorted(self._models)
        adapters = [(name, "serialization", TypeAdapter(self._models[name])) for name in names]
        keyed, defs = TypeAdapter.json_schemas(adapters, by_alias=True)  # type: ignore[arg-type]
        envelope = AppEvent.model_json_schema(by_alias=True, mode="serialization")
        definitions: dict[str, Any] = dict(defs.get("$defs", {}))
        events = []
        for name in names:
            title = "App" + "".join(p.title() for p in re.split(r"[_.\-]", name) if p)
            properties = {
                **envelope["properties"],
                "type": {"const": APP_PREFIX + name},
                "data": keyed[(name, "serialization")],
            }
            definitions[title] = {
                "title": title,
                "type": "object",
                "properties": properties,
                "required": list(properties),
                "additionalProperties": False,
            }
            events.append({"$ref": f"#/$defs/{title}"})
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "AppEvents",
            "oneOf": events,
            "$defs": definitions,
        }

    def data(self, name: str, data: BaseModel | dict[str, Any]) -> dict[str, JsonValue]:
        """`data` as the event carries it: validated by the name's model when it has one."""
        _check_name(name)
        model = self._models.get(name)
        try:
            # A model instance as its JSON: it may be an equal class of another import.
            raw = (
                data.model_dump(mode="json", by_alias=True) if isinstance(data, BaseModel) else data
            )
            if model is not None:
                dumped = model.model_validate(raw).model_dump(mode="json", by_alias=True)
            else:
                dumped = _JSON_OBJECT.validate_python(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "data"
            raise EventDataError(f"app:{name} {where}: {first['msg']}") from exc
        return dumped


def _qualified(model: type[BaseModel]) -> str:
    return f"{model.__module__}.{model.__qualname__}"


def _check_name(name: str) -> None:
    if not is_app_type(APP_PREFIX + name):
        raise EventNameError(
            f"{name!r} is not an event name: 1-64 of a-z, 0-9, '_', '.', '-', "
            "starting with a letter or digit"
        )


REGISTRY = EventRegistry()
"""The process's registry: `register_event` is module-level by contract, like a logger's."""


def register_event(name: str, model: type[BaseModel]) -> None:
    """Check the data of every `app:<name>` against `model` before it is written (its JSON
    Schema is the event's in `flowmaestro schema`'s output for the application)."""
    REGISTRY.register(name, model)


async def emit_event(name: str, data: BaseModel | dict[str, Any]) -> None:
    """Emit `app:<name>` with `data` for the current attempt's execution. The name and data
    are checked everywhere (EventNameError, EventDataError); in a tracked run's activity the
    data is bounded by `Limits.max_event_data_bytes` (EventTooLargeError) and written;
    elsewhere nothing is written."""
    checked = REGISTRY.data(name, data)
    scope = current_attempt()
    if scope is None:
        return
    size, limit = json_size(checked), scope.limits.max_event_data_bytes
    if size > limit:
        raise EventTooLargeError(
            f"app:{name} data is {size} bytes, over max_event_data_bytes {limit}"
        )
    n = scope.next(f"app:{name}")
    await scope.emitter.emit([scope.app_event(name, (n,), checked)])

"""`emit_events`: the workflow's own events (execution lifecycle, answers, timeouts).

The workflow cannot write (no I/O in workflow code), so it describes each event and this
activity builds, validates and writes them. Ids come from the execution and each event's
step key, so a retried or replayed call writes nothing twice. Its writes outlast a Postgres
outage (activities/write_retry.py), heartbeating meanwhile.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, JsonValue
from temporalio import activity
from temporalio.exceptions import ApplicationError

from flowmaestro.activities.execution import ExecutionRef
from flowmaestro.activities.heartbeat import heartbeating
from flowmaestro.events import InvalidEventError
from flowmaestro.events.envelopes import data_json, data_of, event_type

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flowmaestro.events import EventData
    from flowmaestro.events.outbox import Emitter


class EventSpec(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: str
    key: list[str | int]
    """The attempt-independent step key (e.g. the node id); with the type, it fixes the id."""
    data: dict[str, JsonValue]
    """The event's data in its JSON form (events/envelopes.py)."""

    @classmethod
    def of(cls, key: Sequence[str | int], data: EventData) -> EventSpec:
        return cls(type=event_type(data), key=list(key), data=data_json(data))


class EmitInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    execution: ExecutionRef
    events: list[EventSpec]


class EmitActivities:
    def __init__(self, emitter: Emitter) -> None:
        self._emitter = emitter

    @activity.defn(name="emit_events")
    async def emit_events(self, inp: EmitInput) -> None:
        try:
            events = [
                inp.execution.event(tuple(s.key), data_of(s.type, s.data)) for s in inp.events
            ]
        except InvalidEventError as exc:
            raise ApplicationError(
                str(exc), exc.errors, type="invalid_event", non_retryable=True
            ) from exc
        # The execution's status is part of its state, folded from these events in the
        # statement that writes them (events/execution_state.py).
        async with heartbeating():
            await self._emitter.emit(events)

"""Who and what an activity emits for: the execution's identity, carried in every input."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from flowmaestro.events import event_id
from flowmaestro.events.envelopes import envelope, event_type

if TYPE_CHECKING:
    import uuid

    from flowmaestro.events import Event, EventData


class ExecutionRef(BaseModel):
    """The envelope fields of every event of one execution."""

    model_config = ConfigDict(frozen=True)

    execution_id: str
    user_id: str
    workflow_id: str
    """The flow's name, as the envelope's `workflowId`."""

    def event(
        self, key: tuple[str | int, ...], data: EventData, *, agent_id: str | None = None
    ) -> Event:
        """The event of `data`, with an id derived from this execution, its type and `key`.

        `key` names the emitting step without the attempt, unless each attempt's event is
        distinct (e.g. `node:started`), so a retried activity re-derives the same ids.
        """
        return envelope(
            data,
            id=self.event_id(event_type(data), key),
            user_id=self.user_id,
            execution_id=self.execution_id,
            workflow_id=self.workflow_id,
            agent_id=agent_id,
        )

    def event_id(self, type: str, key: tuple[str | int, ...]) -> uuid.UUID:
        """The id `event(type, key, ...)` has, without building the event."""
        return event_id(self.execution_id, type, *key)

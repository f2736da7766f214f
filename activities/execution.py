"""Who and what an activity emits for: the execution's identity, carried in every input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from flowmaestro.events import event_id, parse_event

if TYPE_CHECKING:
    import uuid

    from flowmaestro.events import Event


class ExecutionRef(BaseModel):
    """The envelope fields of every event of one execution."""

    model_config = ConfigDict(frozen=True)

    execution_id: str
    user_id: str
    workflow_id: str
    """The flow's name, as the envelope's `workflowId`."""

    def event(
        self,
        type: str,
        key: tuple[str | int, ...],
        data: dict[str, Any],
        *,
        agent_id: str | None = None,
    ) -> Event:
        """A validated event whose id is derived from this execution and `key`.

        `key` names the emitting step without the attempt, unless each attempt's event is
        distinct (e.g. `node:started`), so a retried activity re-derives the same ids.
        """
        return parse_event(
            {
                "id": str(self.event_id(type, key)),
                "type": type,
                "userId": self.user_id,
                "executionId": self.execution_id,
                "workflowId": self.workflow_id,
                "agentId": agent_id,
                "data": data,
            }
        )

    def event_id(self, type: str, key: tuple[str | int, ...]) -> uuid.UUID:
        """The id `event(type, key, ...)` has, without building the event."""
        return event_id(self.execution_id, type, *key)

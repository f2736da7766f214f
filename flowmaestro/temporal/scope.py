"""The activity attempt being run for a tracked execution, for `progress`, `agent_stream`
and `emit_event` to emit as.

The activity interceptor sets it around each attempt; outside one (an untracked run, a test
calling the function directly) there is none and those calls emit nothing.
"""

from __future__ import annotations

import contextvars
import dataclasses
from typing import TYPE_CHECKING

from flowmaestro.events.envelopes import app_envelope

if TYPE_CHECKING:
    from pydantic import JsonValue

    from flowmaestro.activities.execution import ExecutionRef
    from flowmaestro.events import AppEvent, Event, EventData
    from flowmaestro.events.outbox import Emitter
    from flowmaestro.security import Limits
    from flowmaestro.temporal.progress import ProgressReports


@dataclasses.dataclass(slots=True)
class AttemptScope:
    execution: ExecutionRef
    run_id: str
    node_id: str
    """The activity id."""
    node_type: str
    """The activity type."""
    attempt: int
    emitter: Emitter
    limits: Limits
    counters: dict[str, int] = dataclasses.field(default_factory=dict)
    progress: ProgressReports | None = None
    """Its progress events, once `progress()` is first called."""

    def event(
        self, key: tuple[str | int, ...], data: EventData, *, agent_id: str | None = None
    ) -> Event:
        """An event of this node; `key` as ExecutionRef.event's, within the node. Activity ids
        restart with each run of a workflow id, so the run is part of every id."""
        return self.execution.event((self.run_id, self.node_id, *key), data, agent_id=agent_id)

    def app_event(
        self, name: str, key: tuple[str | int, ...], data: dict[str, JsonValue]
    ) -> AppEvent:
        """The custom event `app:<name>` of this node's execution."""
        ex = self.execution
        type = f"app:{name}"
        return app_envelope(
            name,
            data,
            id=ex.event_id(type, (self.run_id, self.node_id, *key)),
            user_id=ex.user_id,
            execution_id=ex.execution_id,
            workflow_id=ex.workflow_id,
        )

    async def flush(self) -> None:
        """Send what its calls left pending (before its end event)."""
        if self.progress is not None:
            await self.progress.close()

    def next(self, counter: str) -> int:
        """0, 1, 2... per `counter` within this attempt: the index of a repeated call."""
        n = self.counters.get(counter, 0)
        self.counters[counter] = n + 1
        return n


_CURRENT: contextvars.ContextVar[AttemptScope | None] = contextvars.ContextVar(
    "flowmaestro_attempt", default=None
)


def current_attempt() -> AttemptScope | None:
    return _CURRENT.get()


def enter(scope: AttemptScope) -> contextvars.Token[AttemptScope | None]:
    return _CURRENT.set(scope)


def leave(token: contextvars.Token[AttemptScope | None]) -> None:
    _CURRENT.reset(token)

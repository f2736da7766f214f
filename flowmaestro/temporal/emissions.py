"""The plugin's own activities: the workflow's emissions, run as local activities (workflow
code does no I/O; a local activity runs in the worker, with no round trip to the server).

`start`: record the owner (first, so every event can be routed: the gateway's ownership,
listing and snapshot read it) and emit `execution:started`. `emit`: any event the workflow
describes (its end, a prompt and its answer). Ids come from the execution and each event's
key, so a retried or replayed call writes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict, JsonValue
from temporalio import activity

from flowmaestro.activities.emit import EmitActivities, EmitInput
from flowmaestro.activities.execution import ExecutionRef
from flowmaestro.events.catalogue.execution import ExecutionStartedData
from flowmaestro.events.model import added_field
from flowmaestro.flows.messages import Visibility
from flowmaestro.flows.registration import Registration, register

if TYPE_CHECKING:
    from collections.abc import Callable

    from flowmaestro.temporal.resources import Resources

START: Final = "flowmaestro.start_execution"
EMIT: Final = "flowmaestro.emit_events"
NAMES: Final = frozenset({START, EMIT})


class StartInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    execution: ExecutionRef
    run_id: str
    """The first run's id: a retried or continued run is the same execution."""
    inputs: dict[str, JsonValue]
    started_at: datetime
    workspace: str | None = added_field()
    visibility: Visibility = added_field("private")


def plugin_activities(resources: Resources) -> list[Callable[..., Any]]:
    @activity.defn(name=START)
    async def start(inp: StartInput) -> bool:
        ex = inp.execution
        registration = Registration(
            execution_id=ex.execution_id,
            run_id=inp.run_id,
            user_id=ex.user_id,
            flow_name=ex.workflow_id,
            inputs=inp.inputs,
            graph=None,
            workspace=inp.workspace,
            visibility=inp.visibility,
        )
        if not await resources.writes.run(lambda: register(resources.pool, registration)):
            activity.logger.warning(
                "execution %s is registered to another owner, workflow or run: untracked",
                ex.execution_id,
            )
            return False
        started = ex.event(
            (),
            ExecutionStartedData(
                workflow_id=ex.workflow_id,
                status="running",
                started_at=inp.started_at,
                inputs=inp.inputs,
            ),
        )
        await resources.emitter().emit([started])
        return True

    @activity.defn(name=EMIT)
    async def emit(inp: EmitInput) -> None:
        await EmitActivities(resources.emitter()).emit_events(inp)

    return [start, emit]

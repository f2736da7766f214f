"""A tracked run's child workflows as nodes of it: `node:started` when the parent starts one,
`node:completed` or `node:failed` when it ends (the child is also an execution of its own,
with the same owner). Workflow code: the events go through the plugin's local activity."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError, ChildWorkflowError, FailureError

with workflow.unsafe.imports_passed_through():
    from flowmaestro.activities.emit import EventSpec
    from flowmaestro.activities.failure import Failure
    from flowmaestro.events.catalogue.node import NodeCompletedData, NodeStartedData
    from flowmaestro.temporal.values import as_object, jsonable

if TYPE_CHECKING:
    from datetime import datetime

    from temporalio.workflow import ChildWorkflowHandle

    from flowmaestro.temporal.run import Run


class ChildNodes:
    def __init__(self, run: Run) -> None:
        self._run = run
        self._ends: list[tuple[ChildWorkflowHandle[Any, Any], asyncio.Task[None]]] = []

    async def started(self, node_id: str, node_type: str, args: list[Any]) -> None:
        value = jsonable(args[0] if len(args) == 1 else args, self._run.limits.max_event_data_bytes)
        data = NodeStartedData(
            node_id=node_id, node_type=node_type, attempt=1, inputs=as_object(value)
        )
        await self._run.emit(EventSpec.of(self._key(node_id, 1), data))

    def watch(self, handle: ChildWorkflowHandle[Any, Any], node_type: str) -> None:
        """Report the child's end as its node's (a workflow task: nothing awaits it but
        `settle`)."""
        began = workflow.now()
        self._ends.append((handle, asyncio.create_task(self._ended(handle, node_type, began))))

    async def settle(self) -> None:
        """Before the run reports its own end: the ends of the children that have ended (the
        user's code awaited them), so they come first. Others (abandoned) stay open."""
        await asyncio.gather(*(task for handle, task in self._ends if handle.done()))

    async def _ended(
        self, handle: ChildWorkflowHandle[Any, Any], node_type: str, began: datetime
    ) -> None:
        try:
            result = await asyncio.shield(handle)
        except asyncio.CancelledError:
            if not handle.done():
                return
            failure = Failure("the child workflow was cancelled", "cancelled", False)
        except FailureError as exc:
            failure = _failure(exc)
        else:
            completed = NodeCompletedData(
                node_id=handle.id,
                node_type=node_type,
                outputs=jsonable(result, self._run.limits.max_event_data_bytes),
                duration_ms=int((workflow.now() - began).total_seconds() * 1000),
            )
            await self._run.emit(EventSpec.of(self._key(handle.id), completed))
            return
        failed = failure.node_failed(
            handle.id, node_type, attempt=1, max_attempts=1, retry_in_ms=None
        )
        await self._run.emit(EventSpec.of(self._key(handle.id, 1), failed))

    def _key(self, node_id: str, *rest: int) -> list[str | int]:
        run_id = self._run.identity.run_id if self._run.identity else ""
        return [run_id, node_id, *rest]


def _failure(exc: FailureError) -> Failure:
    cause: BaseException = exc
    while isinstance(cause, ChildWorkflowError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, ApplicationError):
        return Failure(cause.message, cause.type or "ApplicationError", False)
    return Failure(str(cause), type(cause).__name__, False)

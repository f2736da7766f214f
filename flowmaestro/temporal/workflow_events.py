"""The workflow interceptors: a run started with `FlowMaestroUser` is an execution.

Inbound, around the workflow: register the owner and emit `execution:started` (one local
activity), then `execution:completed` with the result, or `execution:failed`. Outbound: each
activity the run schedules carries the run's identity in a header (so the activity
interceptor makes it a node), and each child workflow inherits the owner (an execution of its
own). All of it only when `workflow.patched(PATCH)`: a run whose history began before the
plugin replays exactly as it was recorded, untracked.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, ClassVar, Final

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    FailureError,
)
from temporalio.worker import (
    ExecuteWorkflowInput,
    StartActivityInput,
    StartChildWorkflowInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowOutboundInterceptor,
)

with workflow.unsafe.imports_passed_through():
    from flowmaestro.activities.emit import EventSpec
    from flowmaestro.activities.execution import ExecutionRef
    from flowmaestro.events.catalogue.common import ErrorInfo
    from flowmaestro.events.catalogue.execution import (
        ExecutionCompletedData,
        ExecutionFailedData,
    )
    from flowmaestro.flows.contract import WORKFLOW_TYPE
    from flowmaestro.flows.kb.start import KB_INGEST_WORKFLOW
    from flowmaestro.flows.search_attributes import USER
    from flowmaestro.temporal.emissions import NAMES, START, StartInput
    from flowmaestro.temporal.ownership import HEADER, MEMO, owner_of, team_of
    from flowmaestro.temporal.run import EMIT_RETRY, EMIT_TIMEOUT, Run, bind
    from flowmaestro.temporal.values import jsonable

if TYPE_CHECKING:
    from temporalio.workflow import ActivityHandle, ChildWorkflowHandle

    from flowmaestro.security import Limits

SELF_REPORTING: Final = frozenset({WORKFLOW_TYPE, KB_INGEST_WORKFLOW})
"""Workflow types the plugin leaves alone on a worker that also runs them."""

PATCH = "flowmaestro-plugin"
"""The workflow.patched id: histories recorded before the plugin replay without it."""

_MAX_MESSAGE = 2000


class WorkflowEvents(WorkflowInboundInterceptor):
    """Bound to the plugin's settings by `bound()` (the worker instantiates the class)."""

    limits: ClassVar[Limits]
    untracked: ClassVar[set[str]]
    """Workflow types already logged as untracked (one line per type per worker process)."""

    @classmethod
    def bound(cls, limits: Limits) -> type[WorkflowEvents]:
        return type(cls.__name__, (cls,), {"limits": limits, "untracked": set()})

    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        self.run = Run(self.limits)
        super().init(_Outbound(outbound, self.run))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        bind(self.run)
        info = workflow.info()
        if info.workflow_type in SELF_REPORTING:
            # FlowMaestro's own workflows emit their events themselves.
            return await super().execute_workflow(input)
        self.run.serve_prompts()
        user = owner_of(info.typed_search_attributes)
        if user is None:
            if info.workflow_type not in self.untracked:
                self.untracked.add(info.workflow_type)
                workflow.logger.info(
                    "workflow type %s runs untracked: start it with the FlowMaestroUser search "
                    "attribute to make it an execution (flowmaestro.temporal.start_options)",
                    info.workflow_type,
                )
            return await super().execute_workflow(input)
        if not workflow.patched(PATCH):
            return await super().execute_workflow(input)
        started_at = workflow.now()
        execution = ExecutionRef(
            execution_id=info.workflow_id, user_id=user, workflow_id=info.workflow_type
        )
        workspace, visibility = team_of(workflow.memo_value(MEMO, None))
        args = input.args[0] if len(input.args) == 1 else list(input.args)
        value = jsonable(args, self.limits.max_event_data_bytes)
        registered = await workflow.execute_local_activity(
            START,
            StartInput(
                execution=execution,
                run_id=info.first_execution_run_id,
                inputs=value if isinstance(value, dict) else {"args": value},
                started_at=started_at,
                workspace=workspace,
                visibility=visibility,
            ),
            start_to_close_timeout=EMIT_TIMEOUT,
            retry_policy=EMIT_RETRY,
            result_type=bool,
        )
        if not registered:
            return await super().execute_workflow(input)
        self.run.track(execution, info.run_id, workspace)
        try:
            result = await super().execute_workflow(input)
        except workflow.ContinueAsNewError:
            # The next run goes on as the same execution.
            raise
        except asyncio.CancelledError:
            await self.run.emit(_failed("the execution was cancelled", "cancelled", None))
            raise
        except FailureError as exc:
            # Only a FailureError fails the workflow; anything else fails the workflow task,
            # which Temporal retries: the execution has not ended.
            await self.run.children.settle()
            await self.run.emit(_failed(*_failure(exc)))
            raise
        await self.run.children.settle()
        duration = workflow.now() - started_at
        await self.run.emit(
            EventSpec.of(
                [],
                ExecutionCompletedData(
                    outputs={"result": jsonable(result, self.limits.max_event_data_bytes)},
                    duration_ms=int(duration.total_seconds() * 1000),
                ),
            )
        )
        return result


class _Outbound(WorkflowOutboundInterceptor):
    def __init__(self, next: WorkflowOutboundInterceptor, run: Run) -> None:
        super().__init__(next)
        self._run = run

    def start_activity(self, input: StartActivityInput) -> ActivityHandle[Any]:
        self._mark(input)
        return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> ActivityHandle[Any]:
        self._mark(input)
        return super().start_local_activity(input)

    def _mark(self, input: StartActivityInput | StartLocalActivityInput) -> None:
        identity = self._run.identity
        if identity is not None and input.activity not in NAMES:
            input.headers = {**input.headers, HEADER: identity.payload()}

    async def start_child_workflow(
        self, input: StartChildWorkflowInput
    ) -> ChildWorkflowHandle[Any, Any]:
        execution = self._run.execution
        attributes = input.search_attributes
        if execution is not None and (
            attributes is None or isinstance(attributes, TypedSearchAttributes)
        ):
            # The child is an execution of its own, of the same owner (unless the parent
            # names one itself).
            base = attributes or TypedSearchAttributes.empty
            if base.get(USER) is None:
                input.search_attributes = base.updated(SearchAttributePair(USER, execution.user_id))
        if execution is None:
            return await super().start_child_workflow(input)
        # And a node of this run.
        await self._run.children.started(input.id, input.workflow, list(input.args))
        handle = await super().start_child_workflow(input)
        self._run.children.watch(handle, input.workflow)
        return handle


def _failed(message: str, type: str, node_id: str | None) -> EventSpec:
    return EventSpec.of(
        [],
        ExecutionFailedData(
            error=ErrorInfo(message=message[:_MAX_MESSAGE], type=type), failed_node_id=node_id
        ),
    )


def _failure(exc: FailureError) -> tuple[str, str, str | None]:
    """(message, type, failed node) of the failure that ends the workflow."""
    node: str | None = None
    if isinstance(exc, ActivityError):
        node = exc.activity_id
    elif isinstance(exc, ChildWorkflowError):
        node = exc.workflow_id
    cause: BaseException = exc
    while isinstance(cause, ActivityError | ChildWorkflowError) and cause.cause is not None:
        cause = cause.cause
    if isinstance(cause, ApplicationError):
        return cause.message, cause.type or "ApplicationError", node
    if isinstance(cause, FailureError):
        return cause.message, type(cause).__name__, node
    return str(cause), type(cause).__name__, node

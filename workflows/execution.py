"""`ExecutionWorkflow`: runs a flow's node graph, waits for people, and reports every step.

Workflow code does no I/O: every event is written by an activity (`run_node` for a node's
own events, `emit_events` for the execution's and the answers'), with ids derived from the
execution and the step, so a replay or retry writes nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from pydantic import JsonValue, ValidationError

    from flowmaestro.activities.emit import EmitActivities, EmitInput, EventSpec
    from flowmaestro.activities.execution import ExecutionRef
    from flowmaestro.activities.failure import Failure
    from flowmaestro.activities.node_activity import NodeActivities, NodeOutcome, RunNodeInput
    from flowmaestro.activities.nodes.base import InputRequest
    from flowmaestro.activities.registration import RegistrationActivities
    from flowmaestro.activities.templating import render
    from flowmaestro.events import event_id
    from flowmaestro.events.catalogue.common import ErrorInfo
    from flowmaestro.events.catalogue.execution import (
        ExecutionCompletedData,
        ExecutionFailedData,
        ExecutionStartedData,
        ExecutionStatus,
    )
    from flowmaestro.events.catalogue.node import NodeCompletedData
    from flowmaestro.flows import search_attributes
    from flowmaestro.flows.errors import TemplateError
    from flowmaestro.flows.flow import Flow, NodeSpec
    from flowmaestro.flows.messages import (
        PENDING_INPUTS,
        PROVIDE_INPUT,
        ExecutionInput,
        PendingInput,
        ProvideInput,
        ProvideInputResult,
    )
    from flowmaestro.flows.nodes.user_input import UserInputConfig
    from flowmaestro.flows.registration import Problem, RegisterInput
    from flowmaestro.flows.retry import RetrySpec
    from flowmaestro.security import Limits
    from flowmaestro.workflows.prompts import Prompt, Prompts, reject
    from flowmaestro.workflows.timeouts import HEARTBEAT, WRITE_ROOM

# The workflow.patched id of self-registration (the `register_execution` activity first):
# histories recorded before it replay the old path (docs/temporal-clients.md, Versioning).
REGISTERS_ITSELF = "registers-itself"
# The workflow.patched id of an orderly end on cancellation: the registration, event writes
# and node activities in flight run to their end before `execution:failed` (cancelled), so
# that event is the execution's last. Histories from before it replay the old path, where a
# cancel during the registration ended the workflow with no event at all.
ENDS_LAST = "ends-last-on-cancel"

# Writing events must eventually succeed: the activity waits out an outage itself (up to the
# write deadline); past that, Temporal retries it without limit.
_EMIT_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(seconds=10)
)
# Rendering a prompt in workflow code has no clock to stop it, so a budget a tenth of a
# node's: over it, the query shows the raw prompt (the activity renders it in full).
_PROMPT_LIMITS = Limits(template_max_operations=10_000, template_max_output_chars=64 << 10)


_T = TypeVar("_T")


async def _to_its_end(task: asyncio.Task[_T], *, cancel: bool) -> _T:
    """`task`'s result, but a cancellation of the caller lets `task` finish first, then goes
    on: whatever the task writes comes before what the cancelled caller writes next, and the
    cancel is never swallowed. With `cancel`, the task is asked to stop and its end, however
    it came, is the cancel's; without, its own failure (a refused registration) wins."""
    try:
        await workflow.wait([task])
    except asyncio.CancelledError:
        if cancel:
            task.cancel()
        while not task.done():
            # Cancelling the graph cancels each node's task again: still wait for its end.
            with contextlib.suppress(asyncio.CancelledError):
                await workflow.wait([task])
        error = None if cancel or task.cancelled() else task.exception()
        if error is not None:
            raise error from None
        raise
    return task.result()


class _NodeFailedError(Exception):
    def __init__(self, node_id: str, message: str, type: str) -> None:
        super().__init__(message)
        self.node_id = node_id
        self.message = message
        self.type = type


def _rendered_prompt(prompt: str, context: dict[str, JsonValue]) -> str:
    """The prompt as `user_input:required` will show it, known before the event is out so
    `pending_inputs` never lags it (rendering is pure). A bad template fails the node in its
    activity; until then the query shows the raw text."""
    try:
        # Bounded by operations and size (deterministic), never by time.
        return str(render(prompt, context, _PROMPT_LIMITS))
    except TemplateError:
        return prompt


def _retry_policy(spec: RetrySpec) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=spec.initial_interval_seconds),
        backoff_coefficient=spec.backoff_coefficient,
        maximum_interval=timedelta(
            seconds=spec.maximum_interval_seconds or 100 * spec.initial_interval_seconds
        ),
        maximum_attempts=spec.max_attempts,
    )


# An argument that does not decode (no owner, not an object) fails the workflow at once,
# instead of failing its first workflow task again and again.
@workflow.defn(name="ExecutionWorkflow", failure_exception_types=[ValidationError])
class ExecutionWorkflow:
    def __init__(self) -> None:
        self._prompts = Prompts()
        self._outputs: dict[str, JsonValue] = {}
        self._skipped: set[str] = set()
        self._branch_skips: set[str] = set()
        self._finished = 0
        self._ref: ExecutionRef | None = None
        self._search = False
        self._orderly = False

    @workflow.run
    async def run(self, inp: ExecutionInput) -> dict[str, JsonValue]:
        started = workflow.now()
        self._orderly = workflow.patched(ENDS_LAST)
        self._prompts.owned_by(inp.user_id, inp.workspace)
        if workflow.patched(REGISTERS_ITSELF):
            if not self._orderly:
                flow, inputs = await self._register(inp)
            else:
                try:
                    registering = asyncio.create_task(self._register(inp))
                    flow, inputs = await _to_its_end(registering, cancel=False)
                except asyncio.CancelledError:
                    await self._fail("the execution was cancelled", "cancelled", None)
                    raise
        else:
            # Histories from before self-registration: start_execution wrote the owner row
            # and sent an already checked flow.
            assert isinstance(inp.inputs, dict)
            flow, inputs = Flow.model_validate(inp.flow), inp.inputs
            self._ref = ExecutionRef(
                execution_id=workflow.info().workflow_id, user_id=inp.user_id, workflow_id=flow.name
            )
            await self._started(inputs)
        try:
            await self._run_graph(flow, inputs)
        except asyncio.CancelledError:
            await self._fail("the execution was cancelled", "cancelled", None)
            raise
        except _NodeFailedError as failed:
            await self._fail(failed.message, failed.type, failed.node_id)
            raise ApplicationError(
                f"node {failed.node_id!r} failed: {failed.message}",
                type=failed.type,
                non_retryable=True,
            ) from None
        outputs = {n: self._outputs[n] for n in flow.sinks() if n not in self._skipped}
        duration = workflow.now() - started
        completed = ExecutionCompletedData(
            outputs=outputs, duration_ms=int(duration.total_seconds() * 1000)
        )
        await self._emit(EventSpec.of((), completed))
        self._status("completed")
        return outputs

    async def _register(self, inp: ExecutionInput) -> tuple[Flow, dict[str, JsonValue]]:
        """Record the owner (first, so every event can be routed), then start or fail fast."""
        info = workflow.info()
        registered = await workflow.execute_activity_method(
            RegistrationActivities.register_execution,
            RegisterInput(
                execution_id=info.workflow_id,
                run_id=info.first_execution_run_id,
                user_id=inp.user_id,
                flow=inp.flow,
                inputs=inp.inputs,
                workspace=inp.workspace,
                visibility=inp.visibility,
            ),
            start_to_close_timeout=WRITE_ROOM,
            heartbeat_timeout=HEARTBEAT,
            retry_policy=_EMIT_RETRY,
        )
        if registered.refused:
            # Emitting now would reach the channels of the execution that owns this id.
            raise reject(
                "execution_exists",
                f"execution {info.workflow_id} is registered to another owner, flow or run; "
                "start with a new workflow id",
            )
        self._ref = ExecutionRef(
            execution_id=info.workflow_id, user_id=inp.user_id, workflow_id=registered.flow_name
        )
        if registered.search_attributes:
            self._search = True
            workflow.upsert_search_attributes(
                [
                    search_attributes.USER.value_set(inp.user_id),
                    search_attributes.FLOW.value_set(registered.flow_name),
                ]
            )
        await self._started(registered.inputs)
        if registered.problem is not None or registered.flow is None:
            problem = registered.problem or Problem(type="invalid_flow", message="no flow")
            await self._fail(problem.message, problem.type, None)
            raise reject(problem.type, problem.message)
        return registered.flow, registered.inputs

    async def _started(self, inputs: dict[str, JsonValue]) -> None:
        started = ExecutionStartedData(
            workflow_id=self._execution.workflow_id,
            status="running",
            started_at=workflow.now(),
            inputs=inputs,
        )
        await self._emit(EventSpec.of((), started))
        self._status("running")

    def _status(self, status: ExecutionStatus) -> None:
        """Mirror the status the events just set into the `FlowMaestroStatus` attribute."""
        if self._search:
            workflow.upsert_search_attributes([search_attributes.STATUS.value_set(status)])

    async def _run_graph(self, flow: Flow, inputs: dict[str, JsonValue]) -> None:
        tasks: dict[str, asyncio.Task[None]] = {}
        for node_id in flow.order:
            tasks[node_id] = asyncio.create_task(
                self._run_after(flow, flow.node(node_id), inputs, tasks)
            )
        try:
            await asyncio.gather(*tasks.values())
        except BaseException:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            raise

    async def _run_after(
        self,
        flow: Flow,
        node: NodeSpec,
        inputs: dict[str, JsonValue],
        tasks: dict[str, asyncio.Task[None]],
    ) -> None:
        await asyncio.gather(*(tasks[dep] for dep in node.after))
        if node.id in self._branch_skips or (
            node.after and all(dep in self._skipped for dep in node.after)
        ):
            self._skipped.add(node.id)
            self._finished += 1
            return
        request = RunNodeInput(
            execution=self._execution,
            node_id=node.id,
            node_type=node.type,
            config=node.config,
            context={
                "inputs": inputs,
                # Sorted: a set's order follows the process's hash seed, and the input (in
                # the history) must not differ between workers.
                "nodes": {ref: self._outputs.get(ref) for ref in sorted(flow.references(node.id))},
            },
            retry=node.retry,
            timeout_seconds=node.timeout_seconds,
            completed_nodes=self._finished,
            total_nodes=len(flow.nodes),
        )
        if node.type == "user_input":
            await self._ask(node, request)
        else:
            outcome = await self._run_node(node, request)
            self._outputs[node.id] = outcome.output
            self._branch_skips.update(outcome.skip)
        self._finished += 1

    async def _run_node(self, node: NodeSpec, request: RunNodeInput) -> NodeOutcome:
        try:
            running = workflow.start_activity_method(
                NodeActivities.run_node,
                request,
                # The node's timeout runs inside the activity (paused while its writes wait).
                start_to_close_timeout=timedelta(seconds=node.timeout_seconds) + WRITE_ROOM,
                heartbeat_timeout=(
                    timedelta(seconds=node.heartbeat_timeout_seconds)
                    if node.heartbeat_timeout_seconds
                    else HEARTBEAT
                ),
                retry_policy=_retry_policy(node.retry),
                # A node whose flow sets a heartbeat timeout is cancelled in step: wait for it
                # to report its end, so its node:failed comes before execution:failed. (Every
                # attempt heartbeats, but waiting for all would swallow a cancel that meets an
                # attempt just completing, such as a prompt's announcement.)
                # On the orderly path every node is waited for (never swallowing the cancel:
                # _to_its_end raises it after the node's end).
                cancellation_type=(
                    ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
                    if node.heartbeat_timeout_seconds or self._orderly
                    else ActivityCancellationType.TRY_CANCEL
                ),
            )
            if self._orderly:
                return await _to_its_end(running, cancel=True)
            return await running
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):
                raise _NodeFailedError(node.id, cause.message, cause.type or "error") from err
            if isinstance(cause, CancelledError):
                # The execution is being cancelled; the node has reported its own end.
                raise asyncio.CancelledError from err
            # The last attempt never reported (its worker died or it overran its timeout):
            # the workflow reports it, so the node's start has an end. Under that attempt's
            # own id: if the attempt did report its timeout, one of the two is written.
            failure = Failure(
                f"the node's last attempt did not finish: {cause or err}", "timeout", False
            )
            last = max(node.retry.max_attempts, 1)
            failed = failure.node_failed(
                node.id,
                node.type,
                attempt=last,
                max_attempts=node.retry.max_attempts,
                retry_in_ms=None,
            )
            await self._emit(EventSpec.of((node.id, last), failed))
            raise _NodeFailedError(node.id, failure.message, failure.type) from err

    async def _ask(self, node: NodeSpec, request: RunNodeInput) -> None:
        """Run a user_input node: announce the prompt, wait for an answer or the timeout."""
        config = UserInputConfig.model_validate(node.config)
        input_id = "in_" + event_id(self._execution.execution_id, "input", node.id).hex
        asked = workflow.now()
        prompt = self._prompts.ask(
            input_id, node.id, _rendered_prompt(config.prompt, request.context), config, asked
        )
        request = request.model_copy(
            update={
                "input_request": InputRequest(
                    input_id=input_id, expires_at=prompt.pending.expires_at
                )
            }
        )
        announced = await self._run_node(node, request)
        assert isinstance(announced.output, dict)
        self._status("waiting")
        if not await self._prompts.answer(prompt):
            default = announced.output.get("default")
            await self._timed_out(node, request, config, prompt, default, asked)
            return
        self._outputs[node.id] = prompt.value
        await self._emit(
            EventSpec.of((node.id,), prompt.received()),
            self._node_completed(node, prompt.value, asked),
            self._resumed(request),
        )
        self._status("running")

    async def _timed_out(
        self,
        node: NodeSpec,
        request: RunNodeInput,
        config: UserInputConfig,
        prompt: Prompt,
        default: JsonValue,
        asked: datetime,
    ) -> None:
        timeout = EventSpec.of((node.id,), prompt.timed_out(config.on_timeout))
        if config.on_timeout == "fail":
            failure = prompt.failure()
            failed = prompt.node_failed(node.type)
            await self._emit(timeout, EventSpec.of((node.id, "timeout"), failed))
            raise _NodeFailedError(node.id, failure.message, failure.type)
        value = default if config.on_timeout == "default" else None
        if config.on_timeout == "skip":
            self._skipped.add(node.id)
        else:
            self._outputs[node.id] = value
        await self._emit(
            timeout,
            self._node_completed(node, value, asked),
            self._resumed(request),
        )
        self._status("running")

    @staticmethod
    def _resumed(request: RunNodeInput) -> EventSpec:
        """The execution runs again after a prompt was answered or timed out."""
        updated = request.execution_updated("running", request.completed_nodes + 1)
        return EventSpec.of((request.node_id, "resumed"), updated)

    def _node_completed(self, node: NodeSpec, value: JsonValue, since: datetime) -> EventSpec:
        completed = NodeCompletedData(
            node_id=node.id,
            node_type=node.type,
            outputs=value,
            duration_ms=int((workflow.now() - since).total_seconds() * 1000),
        )
        return EventSpec.of((node.id,), completed)

    async def _fail(self, message: str, type: str, node_id: str | None) -> None:
        """`execution:failed`; of type `cancelled`, the status it sets is `cancelled`."""
        failed = ExecutionFailedData(
            error=ErrorInfo(message=message, type=type), failed_node_id=node_id
        )
        await self._emit(EventSpec.of((), failed))
        self._status("cancelled" if type == "cancelled" else "failed")

    async def _emit(self, *events: EventSpec) -> None:
        """Write events; the execution's status follows from them in the same statement."""
        writing = workflow.start_activity_method(
            EmitActivities.emit_events,
            EmitInput(execution=self._execution, events=list(events)),
            start_to_close_timeout=WRITE_ROOM,
            heartbeat_timeout=HEARTBEAT,
            retry_policy=_EMIT_RETRY,
        )
        # A write is never cut short: a cancel goes on once these events are in.
        await (_to_its_end(writing, cancel=False) if self._orderly else writing)

    @property
    def _execution(self) -> ExecutionRef:
        assert self._ref is not None
        return self._ref

    @workflow.update(name=PROVIDE_INPUT)
    async def provide_input(self, answer: ProvideInput) -> ProvideInputResult:
        return self._prompts.accept(answer)

    @provide_input.validator
    def _validate_input(self, answer: ProvideInput) -> None:
        self._prompts.validate(answer)

    @workflow.query(name=PENDING_INPUTS)
    def pending_inputs(self) -> list[PendingInput]:
        return self._prompts.pending()

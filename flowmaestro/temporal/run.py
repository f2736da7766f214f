"""One workflow run as the plugin sees it: tracked (an execution, with its owner) or not,
and the prompts it has open. Workflow code: deterministic, no I/O; it writes only through
the plugin's local activities."""

from __future__ import annotations

import weakref
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from flowmaestro.activities.emit import EmitInput, EventSpec
    from flowmaestro.flows.messages import (
        PENDING_INPUTS,
        PROVIDE_INPUT,
        PendingInput,
        ProvideInput,
        ProvideInputResult,
    )
    from flowmaestro.temporal.children import ChildNodes
    from flowmaestro.temporal.emissions import EMIT
    from flowmaestro.temporal.ownership import RunIdentity
    from flowmaestro.workflows.prompts import Prompts

if TYPE_CHECKING:
    from flowmaestro.activities.execution import ExecutionRef
    from flowmaestro.security import Limits

# Writing must eventually succeed: each attempt waits out an outage itself (up to the write
# deadline); past that, Temporal retries it without limit.
EMIT_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(seconds=10)
)
EMIT_TIMEOUT = timedelta(hours=2)
"""Room for the longest write deadline (activities/write_retry.py) and the write."""


class Run:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.execution: ExecutionRef | None = None
        self.identity: RunIdentity | None = None
        self.prompts = Prompts()
        self.asked = 0
        self.children = ChildNodes(self)

    def serve_prompts(self) -> None:
        """Answer the `provide_input` Update and the `pending_inputs` Query from this run's
        prompts (`ask()`), unless the workflow defines its own."""
        prompts = self.prompts

        def provide_input(answer: ProvideInput) -> ProvideInputResult:
            return prompts.accept(answer)

        def validate(answer: ProvideInput) -> None:
            prompts.validate(answer)

        def pending_inputs() -> list[PendingInput]:
            return prompts.pending()

        if workflow.get_update_handler(PROVIDE_INPUT) is None:
            workflow.set_update_handler(PROVIDE_INPUT, provide_input, validator=validate)
        if workflow.get_query_handler(PENDING_INPUTS) is None:
            workflow.set_query_handler(PENDING_INPUTS, pending_inputs)

    def track(self, execution: ExecutionRef, run_id: str, workspace: str | None) -> None:
        self.execution = execution
        self.prompts.owned_by(execution.user_id, workspace)
        self.identity = RunIdentity(
            user_id=execution.user_id,
            execution_id=execution.execution_id,
            workflow_type=execution.workflow_id,
            run_id=run_id,
        )

    async def emit(self, *events: EventSpec) -> None:
        """Write events of this execution (nothing for an untracked run)."""
        if self.execution is None:
            return
        await workflow.execute_local_activity(
            EMIT,
            EmitInput(execution=self.execution, events=list(events)),
            start_to_close_timeout=EMIT_TIMEOUT,
            retry_policy=EMIT_RETRY,
        )


# Keyed by the workflow instance (one per run in this worker): `ask()` finds its run there.
_RUNS: weakref.WeakKeyDictionary[object, Run] = weakref.WeakKeyDictionary()


def bind(run: Run) -> None:
    _RUNS[workflow.instance()] = run


def current_run() -> Run | None:
    """The run of the calling workflow; None when the plugin does not intercept it."""
    return _RUNS.get(workflow.instance())

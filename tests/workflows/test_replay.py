"""Histories recorded from real runs of the example flows (FLOWMAESTRO_RECORD_HISTORIES=1
pytest tests/workflows/test_examples.py) replay against today's ExecutionWorkflow without a
nondeterminism error: today's recordings, and those from before the workflow registered its
own execution (`*.before-registration.json`, replayed on the unpatched path of
`workflow.patched("registers-itself")`), and a cancel met at the start from before the
orderly end (`*.before-orderly-end.json`, the unpatched path of `"ends-last-on-cancel"`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import (
    Interceptor,
    Replayer,
    StartActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from flowmaestro.workflows.worker import WORKFLOWS, sandbox_runner

if TYPE_CHECKING:
    from collections.abc import Sequence

    from temporalio.workflow import ActivityHandle

HISTORIES = {
    path.stem: json.loads(path.read_text())
    for path in sorted((Path(__file__).resolve().parent / "histories").glob("*.json"))
}


def test_histories_are_checked_in() -> None:
    examples = {"parallel", "approval", "retry"}
    assert set(HISTORIES) >= examples | {f"{name}.before-registration" for name in examples}


@pytest.mark.parametrize("name", sorted(HISTORIES))
async def test_recorded_history_replays(name: str) -> None:
    recorded = HISTORIES[name]
    # The workflow id matters: the workflow derives its prompts' input ids from it.
    history = WorkflowHistory.from_json(recorded["workflowId"], recorded["history"])
    replayer = Replayer(
        workflows=list(WORKFLOWS),
        data_converter=pydantic_data_converter,
        workflow_runner=sandbox_runner(),
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


# Replay compares what a workflow schedules by activity type and id, not by input: these
# histories also pin the inputs' bytes (the `*.before-registration` ones carried a field
# since dropped, so only today's recordings are compared).
_SCHEDULED: list[tuple[str, Sequence[Any]]] = []


class _Recorder(Interceptor):
    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _Inbound


class _Inbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_Outbound(outbound))


class _Outbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> ActivityHandle[Any]:
        _SCHEDULED.append((input.activity, input.args))
        return super().start_activity(input)


@pytest.mark.parametrize("name", sorted(n for n in HISTORIES if "." not in n))
async def test_replay_schedules_the_recorded_inputs_byte_for_byte(name: str) -> None:
    recorded = HISTORIES[name]
    history = WorkflowHistory.from_json(recorded["workflowId"], recorded["history"])
    _SCHEDULED.clear()
    replayer = Replayer(
        workflows=list(WORKFLOWS),
        data_converter=pydantic_data_converter,
        workflow_runner=sandbox_runner(),
        interceptors=[_Recorder()],
    )
    await replayer.replay_workflow(history)
    scheduled = [
        (e.activity_task_scheduled_event_attributes.activity_type.name, e)
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert [activity for activity, _ in _SCHEDULED] == [activity for activity, _ in scheduled]
    converter = pydantic_data_converter.payload_converter
    for (activity, args), (_, event) in zip(_SCHEDULED, scheduled, strict=True):
        expected = [p.data for p in event.activity_task_scheduled_event_attributes.input.payloads]
        assert [p.data for p in converter.to_payloads(args)] == expected, activity

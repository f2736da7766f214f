"""Histories recorded from real runs of the example flows (FLOWMAESTRO_RECORD_HISTORIES=1
pytest tests/workflows/test_examples.py) replay against today's ExecutionWorkflow without a
nondeterminism error: today's recordings, and those from before the workflow registered its
own execution (`*.before-registration.json`, replayed on the unpatched path of
`workflow.patched("registers-itself")`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from flowmaestro.workflows.worker import WORKFLOWS, sandbox_runner

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

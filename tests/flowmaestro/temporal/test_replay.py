"""Adding the plugin to a worker never breaks the replay of a run that started without it.

`histories/*.before-plugin.json` were recorded from runs started with the owner's search
attribute on a worker WITHOUT the plugin (`FLOWMAESTRO_RECORD_HISTORIES=1 pytest
tests/flowmaestro/temporal/test_replay.py -k record`); replayed on a worker with it, they take
the unpatched path of `workflow.patched("flowmaestro-plugin")` and schedule exactly what they
did. A run recorded with the plugin replays with it too.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer, Worker

from flowmaestro.settings import Settings
from flowmaestro.temporal import FlowMaestroPlugin, start_options
from tests.flowmaestro.temporal.own import ACTIVITIES, OrderWorkflow, PackWorkflow, ShipWorkflow
from tests.flowmaestro.temporal.plain import PlainWorkflow, double

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

HISTORIES = Path(__file__).resolve().parent / "histories"
RECORDED = {path.stem: json.loads(path.read_text()) for path in sorted(HISTORIES.glob("*.json"))}


def replayer() -> Replayer:
    """A replayer with the plugin: it runs no activity, so it needs no database."""
    unreachable = "postgresql://nobody@127.0.0.1:1/none"
    return Replayer(
        workflows=[OrderWorkflow, PlainWorkflow, ShipWorkflow, PackWorkflow],
        plugins=[FlowMaestroPlugin(Settings(database_url=unreachable))],
    )


@pytest.mark.skipif(
    not os.environ.get("FLOWMAESTRO_RECORD_HISTORIES"), reason="records the checked-in histories"
)
async def test_record_a_history_before_the_plugin(temporal_env: WorkflowEnvironment) -> None:
    queue = f"record-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_env.client, task_queue=queue, workflows=[PlainWorkflow], activities=[double]
    ):
        handle = await temporal_env.client.start_workflow(
            PlainWorkflow.run,
            5,
            id=f"plain-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            **start_options("alice"),
        )
        assert await handle.result() == 20
    history = await handle.fetch_history()
    text = json.dumps({"workflowId": handle.id, "history": history.to_json_dict()}, indent=1)
    await asyncio.to_thread((HISTORIES / "plain.before-plugin.json").write_text, text + "\n")


def test_a_history_from_before_the_plugin_is_checked_in() -> None:
    assert "plain.before-plugin" in RECORDED


@pytest.mark.parametrize("name", sorted(RECORDED))
async def test_a_run_from_before_the_plugin_replays_with_it(name: str) -> None:
    recorded = RECORDED[name]
    history = WorkflowHistory.from_json(recorded["workflowId"], recorded["history"])
    # It was started with an owner: only the patch keeps the plugin from tracking it.
    assert "FlowMaestroUser" in json.dumps(recorded["history"]["events"][0])
    result = await replayer().replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_runs_with_the_plugin_replay_with_it(
    temporal_env: WorkflowEnvironment, database_dsn: str
) -> None:
    """A plain run, and a parent whose child is a node of it (a workflow task reports the
    child's end)."""
    queue = f"replay-{uuid.uuid4().hex[:8]}"
    client = Client(
        temporal_env.client.service_client,
        namespace=temporal_env.client.namespace,
        plugins=[FlowMaestroPlugin(Settings(database_url=database_dsn))],
    )
    ship = f"ship-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[PlainWorkflow, ShipWorkflow, PackWorkflow],
        activities=[*ACTIVITIES, double],
    ):
        plain = await client.start_workflow(
            PlainWorkflow.run,
            1,
            id=f"plain-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            **start_options("alice"),
        )
        parent = await client.start_workflow(
            ShipWorkflow.run, ship, id=ship, task_queue=queue, **start_options("alice")
        )
        assert await plain.result() == 4
        assert await parent.result() == 3
    for handle in (plain, parent):
        history = await handle.fetch_history()
        markers = [e for e in history.events if e.HasField("marker_recorded_event_attributes")]
        assert markers, "the plugin's patch and local activities are in the history"
        result = await replayer().replay_workflow(history, raise_on_replay_failure=True)
        assert result.replay_failure is None

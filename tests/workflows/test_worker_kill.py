"""SIGKILL the worker process in the middle of a node; a new worker process finishes the
execution and every event is in the outbox exactly once."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flowmaestro.flows.flow import load_flow
from tests.support.processes import FLOWMAESTRO, Child
from tests.workflows.helpers import events_until, shape, start, worker
from tests.workflows.test_examples import assert_each_once

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

FLOW = load_flow("""
name: survive-a-kill
nodes:
  - id: before
    type: transform
    config: {output: 1}
  - id: wait
    type: delay
    after: [before]
    config: {seconds: 4, reports: 8}
    heartbeat_timeout_seconds: 1
    retry: {initial_interval_seconds: 0.2}
  - id: finish
    type: transform
    after: [wait]
    config: {output: "{{ nodes.before + 1 }}"}
""")


pytestmark = pytest.mark.slow


def worker_process(env: dict[str, str], log: Path) -> Child:
    """`flowmaestro worker`, its output appended to `log`."""
    return Child(FLOWMAESTRO, "worker", env=env, log=log, name="worker")


async def test_a_killed_worker_loses_and_duplicates_nothing(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    sequencer: Sequencer,
    database_dsn: str,
    tmp_path: Path,
) -> None:
    client = temporal_env.client
    queue = f"kill-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "FLOWMAESTRO_DATABASE_URL": database_dsn,
        "FLOWMAESTRO_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "FLOWMAESTRO_TASK_QUEUE": queue,
        # The test's own sequencer numbers the events; the workers only write them.
        "FLOWMAESTRO_RUN_SEQUENCER": "false",
    }
    log = tmp_path / "workers.log"
    execution_id = await start(client, pool, queue, FLOW)
    async with worker_process(env, log) as first:
        await events_until(pool, execution_id, {"node:progress"}, node_id="wait", timeout=60)
        assert await first.kill() == -signal.SIGKILL
    async with worker_process(env, log) as second:
        events = await events_until(pool, execution_id, timeout=60)
        # SIGTERM stops a worker cleanly.
        assert await second.stop(signal.SIGTERM, timeout=15) == 0, log.read_text()[-3000:]

    assert_each_once(events)
    assert events[-1].type == "execution:completed", log.read_text()[-3000:]
    assert events[-1].envelope["data"]["outputs"] == {"finish": 2}
    for node in ("before", "wait", "finish"):
        assert shape(events).count(("node:completed", node)) == 1
    wait = [e.envelope["data"] for e in events if e.envelope["data"].get("nodeId") == "wait"]
    # The killed attempt could not end itself; Temporal ran a second one on the new worker,
    # which ended it ...
    assert [(d["attempt"], d.get("willRetry")) for d in wait if "attempt" in d] == [
        (1, None),
        (1, True),
        (2, None),
    ]
    # ... which resumed from its checkpoint: each progress step is reported exactly once.
    assert [d["progress"] for d in wait if "progress" in d] == [100 * i / 8 for i in range(1, 9)]


async def test_a_last_attempt_lost_with_its_worker_is_reported_by_the_workflow(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    sequencer: Sequencer,
    database_dsn: str,
    tmp_path: Path,
) -> None:
    # The wait outlasts the test (its only attempt is killed; it never runs again), so a slow
    # machine cannot let it finish before the kill.
    flow = load_flow("""
name: no-second-chance
nodes:
  - id: wait
    type: delay
    config: {seconds: 60, reports: 100}
    heartbeat_timeout_seconds: 1
    retry: {max_attempts: 1}
""")
    client = temporal_env.client
    queue = f"kill-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "FLOWMAESTRO_DATABASE_URL": database_dsn,
        "FLOWMAESTRO_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "FLOWMAESTRO_TASK_QUEUE": queue,
        "FLOWMAESTRO_RUN_SEQUENCER": "false",
    }
    execution_id = await start(client, pool, queue, flow)
    async with worker_process(env, tmp_path / "worker.log") as first:
        await events_until(pool, execution_id, {"node:progress"}, node_id="wait", timeout=60)
        await first.kill()
    async with worker(client, pool, task_queue=queue):
        events = await events_until(pool, execution_id, timeout=60)
    assert_each_once(events)
    assert shape(events)[-2:] == [("node:failed", "wait"), ("execution:failed", None)]
    lost = events[-2].envelope["data"]
    assert (lost["error"]["type"], lost["attempt"], lost["willRetry"]) == ("timeout", 1, False)
    assert events[-1].envelope["data"]["failedNodeId"] == "wait"

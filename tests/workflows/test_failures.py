"""A node that times out or fails for good: per-attempt `node:failed`, then `execution:failed`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from flowmaestro.flows.flow import load_flow
from tests.http_server import scripted_server
from tests.workflows.helpers import events_until, shape, start, worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


@pytest.mark.slow
async def test_a_timed_out_node_is_retried_then_fails_the_execution(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    flow = load_flow("""
name: too-slow
nodes:
  - id: wait
    type: delay
    config: {seconds: 5}
    timeout_seconds: 0.3
    retry: {max_attempts: 2, initial_interval_seconds: 0.1}
""")
    client = temporal_env.client
    async with worker(client, pool) as queue:
        execution_id = await start(client, pool, queue, flow)
        events = await events_until(pool, execution_id)
    assert shape(events) == [
        ("execution:started", None),
        ("node:started", "wait"),
        ("execution:updated", None),
        ("node:failed", "wait"),
        ("node:started", "wait"),
        ("node:failed", "wait"),
        ("execution:failed", None),
    ]
    failed = [e.envelope["data"] for e in events if e.type == "node:failed"]
    assert [
        (f["error"]["type"], f["attempt"], f["maxAttempts"], f["willRetry"], f["nextRetryInMs"])
        for f in failed
    ] == [("timeout", 1, 2, True, 100), ("timeout", 2, 2, False, None)]
    assert events[-1].envelope["data"] == {
        "error": {"message": "node timed out after 0.3s", "type": "timeout"},
        "failedNodeId": "wait",
    }


async def test_a_non_retryable_failure_stops_at_once(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = temporal_env.client
    flow = load_flow("""
name: missing
inputs: {url: {}}
nodes:
  - id: fetch
    type: http
    config: {url: "{{ inputs.url }}"}
    retry: {max_attempts: 5, initial_interval_seconds: 0.1}
  - id: never
    type: transform
    after: [fetch]
    config: {output: 1}
""")
    async with scripted_server([(404, b"gone")]) as (url, seen), worker(client, pool) as queue:
        execution_id = await start(client, pool, queue, flow, url=url)
        events = await events_until(pool, execution_id)
    assert len(seen) == 1
    assert shape(events)[-2:] == [("node:failed", "fetch"), ("execution:failed", None)]
    failed = events[-2].envelope["data"]
    assert (failed["error"]["type"], failed["willRetry"], failed["maxAttempts"]) == (
        "http_404",
        False,
        5,
    )
    assert events[-1].envelope["data"]["failedNodeId"] == "fetch"
    assert await pool.fetchval("SELECT status FROM executions WHERE id = $1", execution_id) == (
        "failed"
    )


@pytest.mark.slow
async def test_cancelling_mid_node_ends_the_node_then_the_execution(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    flow = load_flow("""
name: cancel-me
nodes:
  - id: wait
    type: delay
    config: {seconds: 30, reports: 60}
    heartbeat_timeout_seconds: 2
""")
    client = temporal_env.client
    async with worker(client, pool) as queue:
        execution_id = await start(client, pool, queue, flow)
        await events_until(pool, execution_id, {"node:progress"}, node_id="wait")
        await client.get_workflow_handle(execution_id).cancel()
        events = await events_until(pool, execution_id)
    assert [s for s in shape(events) if s != ("node:progress", "wait")] == [
        ("execution:started", None),
        ("node:started", "wait"),
        ("execution:updated", None),
        ("node:failed", "wait"),
        ("execution:failed", None),
    ]
    failed = events[-2].envelope["data"]
    assert (failed["error"]["type"], failed["willRetry"]) == ("cancelled", False)
    assert events[-1].envelope["data"] == {
        "error": {"message": "the execution was cancelled", "type": "cancelled"},
        "failedNodeId": None,
    }

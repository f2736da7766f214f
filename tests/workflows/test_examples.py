"""Each example flow end to end on a real Temporal dev server and Postgres: the exact ordered
events in the outbox, then a replay of the recorded history."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from flowmaestro.flows.messages import PROVIDE_INPUT, ProvideInput, ProvideInputResult
from tests.http_server import scripted_server
from tests.workflows.helpers import (
    events_until,
    example,
    node_events,
    replay_and_record,
    shape,
    start,
    worker,
)

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer, StoredEvent


def assert_each_once(events: list[StoredEvent]) -> None:
    """Positions strictly increase; no event id and no (type, node, attempt, status) repeats."""
    positions = [e.position for e in events]
    assert positions == sorted(set(positions))
    assert len({e.envelope["id"] for e in events}) == len(events)
    steps = Counter(
        (
            e.type,
            e.envelope["data"].get("nodeId") or e.envelope["data"].get("currentNodeId"),
            e.envelope["data"].get("attempt"),
            e.envelope["data"].get("status"),
        )
        for e in events
        if e.type != "node:progress"
    )
    assert max(steps.values()) == 1, steps


async def test_parallel_branches_run_concurrently_and_join(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = temporal_env.client
    async with worker(client, pool) as queue:
        execution_id = await start(client, pool, queue, example("parallel.yaml"))
        events = await events_until(pool, execution_id)
        await replay_and_record(client, execution_id, "parallel")
        history = await client.get_workflow_handle(execution_id).fetch_history()
    assert_each_once(events)
    got = shape(events)
    assert got[:4] == [
        ("execution:started", None),
        ("node:started", "prepare"),
        ("execution:updated", None),
        ("node:completed", "prepare"),
    ]
    assert got[-4:] == [
        ("node:started", "combine"),
        ("execution:updated", None),
        ("node:completed", "combine"),
        ("execution:completed", None),
    ]
    branches = got[4:-4]
    assert Counter(branches) == Counter(
        [
            *[("node:started", n) for n in ("headline", "pause", "score")],
            *[("execution:updated", None)] * 3,
            *[("node:completed", n) for n in ("headline", "pause", "score")],
            *[("node:progress", "pause")] * 2,
        ]
    )
    for node in ("headline", "pause", "score"):
        own = shape(node_events(events, node))
        assert own[0] == ("node:started", node) and own[-1] == ("node:completed", node)
    # The workflow scheduled all three branches together, before any of them completed.
    steps = [
        e.WhichOneof("attributes")
        for e in history.events
        if e.WhichOneof("attributes")
        in ("activity_task_scheduled_event_attributes", "activity_task_completed_event_attributes")
    ]
    completed = [
        i for i, step in enumerate(steps) if step == "activity_task_completed_event_attributes"
    ]
    # The first three: register_execution, execution:started, `prepare`.
    after_prepare = steps[completed[2] + 1 :]
    assert after_prepare[:3] == ["activity_task_scheduled_event_attributes"] * 3
    progress = [e.envelope["data"]["progress"] for e in node_events(events, "pause")[1:-1]]
    assert progress == [50, 100]
    assert events[-1].envelope["data"]["outputs"] == {
        "combine": {"headline": "Report on Realtime Events", "score": 150}
    }
    assert await pool.fetchval("SELECT status FROM executions WHERE id = $1", execution_id) == (
        "completed"
    )


async def test_approval_waits_for_the_answer(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = temporal_env.client
    async with worker(client, pool) as queue:
        execution_id = await start(
            client, pool, queue, example("approval.yaml"), amount=500, requester="ada"
        )
        asked = await events_until(pool, execution_id, {"user_input:required"})
        prompt = asked[-1].envelope["data"]
        assert prompt["prompt"] == "Approve 500 for ada?"
        assert prompt["schema"] == {"type": "boolean"} and prompt["inputType"] == "boolean"
        assert await pool.fetchval("SELECT status FROM executions WHERE id = $1", execution_id) == (
            "waiting"
        )
        handle = client.get_workflow_handle(execution_id)
        result = await handle.execute_update(
            PROVIDE_INPUT,
            ProvideInput(input_id=prompt["inputId"], value=True),
            result_type=ProvideInputResult,
        )
        assert result == ProvideInputResult(input_id=prompt["inputId"], node_id="approve")
        events = await events_until(pool, execution_id)
        await replay_and_record(client, execution_id, "approval")
    assert_each_once(events)
    assert shape(events) == [
        ("execution:started", None),
        ("node:started", "check"),
        ("execution:updated", None),
        ("node:completed", "check"),
        ("node:started", "approve"),
        ("execution:updated", None),
        ("user_input:required", "approve"),
        ("user_input:received", "approve"),
        ("node:completed", "approve"),
        ("execution:updated", None),
        ("node:started", "decide"),
        ("execution:updated", None),
        ("node:completed", "decide"),
        ("execution:completed", None),
    ]
    waiting, resumed = events[5].envelope["data"], events[9].envelope["data"]
    assert (waiting["status"], waiting["currentNodeId"], waiting["completedNodes"]) == (
        "waiting",
        "approve",
        1,
    )
    assert (resumed["status"], resumed["currentNodeId"], resumed["completedNodes"]) == (
        "running",
        "approve",
        2,
    )
    assert events[-1].envelope["data"]["outputs"] == {"decide": {"amount": 500, "approved": True}}


async def test_approval_below_the_threshold_skips_the_prompt(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = temporal_env.client
    async with worker(client, pool) as queue:
        execution_id = await start(client, pool, queue, example("approval.yaml"), amount=20)
        events = await events_until(pool, execution_id)
    assert [s for s in shape(events) if s[1] is not None] == [
        ("node:started", "check"),
        ("node:completed", "check"),
        ("node:started", "auto_approve"),
        ("node:completed", "auto_approve"),
        ("node:started", "decide"),
        ("node:completed", "decide"),
    ]
    assert events[-1].envelope["data"]["outputs"] == {"decide": {"amount": 20, "approved": True}}


async def test_retry_example_fails_twice_then_succeeds(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = temporal_env.client
    script: list[tuple[int, bytes | dict[str, object]]] = [
        (500, b"down"),
        (503, b"still down"),
        (200, {"ok": True}),
    ]
    async with scripted_server(script) as (url, seen), worker(client, pool) as queue:
        execution_id = await start(client, pool, queue, example("retry.yaml"), url=url)
        events = await events_until(pool, execution_id)
        await replay_and_record(client, execution_id, "retry")
    assert len(seen) == 3
    assert_each_once(events)
    assert shape(events) == [
        ("execution:started", None),
        ("node:started", "fetch"),
        ("execution:updated", None),
        ("node:failed", "fetch"),
        ("node:started", "fetch"),
        ("node:failed", "fetch"),
        ("node:started", "fetch"),
        ("node:completed", "fetch"),
        ("node:started", "report"),
        ("execution:updated", None),
        ("node:completed", "report"),
        ("execution:completed", None),
    ]
    failed = [e.envelope["data"] for e in events if e.type == "node:failed"]
    assert [
        (f["attempt"], f["maxAttempts"], f["willRetry"], f["nextRetryInMs"]) for f in failed
    ] == [
        (1, 4, True, 200),
        (2, 4, True, 400),
    ]
    assert [f["error"]["type"] for f in failed] == ["http_500", "http_503"]
    started = [e.envelope["data"]["attempt"] for e in events if e.type == "node:started"]
    assert started == [1, 2, 3, 1]
    assert events[-1].envelope["data"]["outputs"] == {
        "report": {"status": 200, "body": {"ok": True}}
    }

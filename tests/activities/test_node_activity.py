"""`run_node` on its own (temporalio's ActivityEnvironment, real Postgres): the events of
one attempt, how a failure is reported and re-raised, and re-runs writing nothing twice."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from flowmaestro.activities.execution import ExecutionRef
from flowmaestro.activities.node_activity import NodeActivities, NodeOutcome, RunNodeInput
from flowmaestro.events.catalogue.node import NodeCompletedData, NodeStartedData
from flowmaestro.events.outbox import PostgresEmitter
from flowmaestro.flows.retry import RetrySpec
from tests.http_server import scripted_server
from tests.node_services import node_services

if TYPE_CHECKING:
    import asyncpg

REF = ExecutionRef(execution_id="ex_1", user_id="u1", workflow_id="f")


def node_input(type: str, config: dict[str, Any], **overrides: Any) -> RunNodeInput:
    fields: dict[str, Any] = {
        "execution": REF,
        "node_id": "n",
        "node_type": type,
        "config": config,
        "context": {"inputs": {"x": 2}, "nodes": {}},
        "retry": RetrySpec(max_attempts=3, initial_interval_seconds=0.5),
        "timeout_seconds": 10,
        "completed_nodes": 1,
        "total_nodes": 4,
    }
    return RunNodeInput(**{**fields, **overrides})


async def run(pool: asyncpg.Pool, inp: RunNodeInput, attempt: int = 1) -> NodeOutcome:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt)
    async with node_services(pool) as services:
        activities = NodeActivities(PostgresEmitter(pool), services)
        outcome: NodeOutcome = await env.run(activities.run_node, inp)
        return outcome


async def stored(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT envelope::text FROM event_outbox ORDER BY seq")
    return [json.loads(r[0]) for r in rows]


async def test_one_attempt_emits_started_updated_completed(pool: asyncpg.Pool) -> None:
    outcome = await run(pool, node_input("transform", {"output": "{{ inputs.x * 21 }}"}))
    assert outcome.output == 42 and outcome.skip == []
    events = await stored(pool)
    assert [e["type"] for e in events] == ["node:started", "execution:updated", "node:completed"]
    assert events[0]["data"] == {
        "nodeId": "n",
        "nodeType": "transform",
        "attempt": 1,
        "inputs": {"output": 42},
    }
    assert events[1]["data"] == {
        "status": "running",
        "currentNodeId": "n",
        "progress": 25,
        "completedNodes": 1,
        "totalNodes": 4,
    }
    assert events[2]["data"]["outputs"] == 42
    # The same attempt run again (a re-delivered task) writes nothing new.
    await run(pool, node_input("transform", {"output": "{{ inputs.x * 21 }}"}))
    assert len(await stored(pool)) == 3


async def test_a_template_error_fails_for_good(pool: asyncpg.Pool) -> None:
    with pytest.raises(ApplicationError) as failed:
        await run(pool, node_input("transform", {"output": "{{ inputs.nope }}"}))
    assert (failed.value.type, failed.value.non_retryable) == ("template_error", True)
    events = await stored(pool)
    assert [e["type"] for e in events] == ["node:started", "execution:updated", "node:failed"]
    assert events[0]["data"]["inputs"] == {"output": "{{ inputs.nope }}"}
    data = events[2]["data"]
    assert (data["willRetry"], data["nextRetryInMs"], data["error"]["type"]) == (
        False,
        None,
        "template_error",
    )


@pytest.mark.parametrize(
    ("attempt", "retry", "will_retry", "next_ms"),
    [
        (1, RetrySpec(max_attempts=3, initial_interval_seconds=0.5), True, 500),
        (2, RetrySpec(max_attempts=3, initial_interval_seconds=0.5), True, 1000),
        (3, RetrySpec(max_attempts=3, initial_interval_seconds=0.5), False, None),
        (
            7,
            RetrySpec(max_attempts=0, initial_interval_seconds=1, maximum_interval_seconds=5),
            True,
            5000,
        ),
    ],
)
async def test_node_failed_says_whether_and_when_temporal_retries(
    pool: asyncpg.Pool, attempt: int, retry: RetrySpec, will_retry: bool, next_ms: int | None
) -> None:
    async with scripted_server([(500, b"down")]) as (url, _):
        with pytest.raises(ApplicationError) as failed:
            await run(pool, node_input("http", {"url": url}, retry=retry), attempt=attempt)
    # Retryable by nature: Temporal, not the error, stops at max_attempts.
    assert (failed.value.type, failed.value.non_retryable) == ("http_500", False)
    data = (await stored(pool))[-1]["data"]
    assert (data["attempt"], data["maxAttempts"], data["willRetry"], data["nextRetryInMs"]) == (
        attempt,
        retry.max_attempts,
        will_retry,
        next_ms,
    )


async def test_a_condition_names_the_branch_to_skip(pool: asyncpg.Pool) -> None:
    config = {"if": "{{ inputs.x > 1 }}", "then": ["big"], "else": ["small"]}
    outcome = await run(pool, node_input("condition", config))
    assert (outcome.output, outcome.skip) == ({"result": True}, ["small"])


def started_event(attempt: int) -> Any:
    data = NodeStartedData(node_id="n", node_type="transform", attempt=attempt, inputs={})
    return REF.event(("n", attempt), data)


async def test_an_attempt_that_never_ended_is_ended_by_the_next(pool: asyncpg.Pool) -> None:
    # Attempt 1 started, then its worker died: it wrote no end.
    await PostgresEmitter(pool).emit([started_event(1)])
    inp = node_input("transform", {"output": 1})
    await run(pool, inp, attempt=2)
    events = await stored(pool)
    assert [(e["type"], e["data"].get("attempt")) for e in events] == [
        ("node:started", 1),
        ("node:failed", 1),
        ("node:started", 2),
        ("execution:updated", None),
        ("node:completed", None),
    ]
    lost = events[1]["data"]
    assert (lost["error"]["type"], lost["willRetry"], lost["nextRetryInMs"]) == (
        "attempt_lost",
        True,
        500,
    )
    # Attempt 2 re-delivered: attempt 1 has its end, nothing is written twice.
    await run(pool, inp, attempt=2)
    assert len(await stored(pool)) == 5


async def test_a_node_completed_by_a_lost_attempt_runs_again_silently(pool: asyncpg.Pool) -> None:
    async with scripted_server([(500, b"down")]) as (url, _):
        with pytest.raises(ApplicationError):
            await run(pool, node_input("http", {"url": url}), attempt=1)
    # Attempt 2 completed, but its completion never reached Temporal.
    await PostgresEmitter(pool).emit([started_event(2)])
    await PostgresEmitter(pool).emit(
        [
            REF.event(
                ("n",),
                NodeCompletedData(node_id="n", node_type="transform", outputs=1, duration_ms=1),
            )
        ]
    )
    before = await stored(pool)
    outcome = await run(pool, node_input("transform", {"output": 1}), attempt=3)
    # Run again for its outcome, and silent: a start here would never see its end.
    assert outcome.output == 1
    assert await stored(pool) == before

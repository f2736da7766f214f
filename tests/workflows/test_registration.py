"""ExecutionWorkflow registers its own execution, whoever starts it: a raw Temporal start
(plain JSON, the default converter) is owned and listed; a malformed one fails fast with
`execution:failed` naming the problem, and no workflow task is retried."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from flowmaestro.flows.search_attributes import FLOW, STATUS, USER
from tests.workflows.helpers import events_until, shape, worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

FLOW_DOC = {
    "name": "raw",
    "inputs": {"who": {"type": "string"}},
    "nodes": [{"id": "greet", "type": "transform", "config": {"output": "hi {{ inputs.who }}"}}],
}


async def plain_client(env: WorkflowEnvironment) -> Client:
    """A client as a user would make one: the default (JSON) converter, no FlowMaestro code."""
    return await Client.connect(env.client.service_client.config.target_host)


async def start_raw(client: Client, queue: str, arg: Any) -> str:
    execution_id = f"raw-{uuid.uuid4().hex[:8]}"
    await client.start_workflow("ExecutionWorkflow", arg, id=execution_id, task_queue=queue)
    return execution_id


async def test_a_raw_start_registers_and_runs(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = await plain_client(temporal_env)
    async with worker(temporal_env.client, pool) as queue:
        arg = {"user_id": "u7", "flow": FLOW_DOC, "inputs": {"who": "ada"}}
        execution_id = await start_raw(client, queue, arg)
        result = await client.get_workflow_handle(execution_id).result()
        events = await events_until(pool, execution_id)
    assert result == {"greet": "hi ada"}
    assert shape(events)[0] == ("execution:started", None)
    row = await pool.fetchrow("SELECT * FROM executions WHERE id = $1", execution_id)
    assert row is not None
    assert (row["user_id"], row["workflow_id"], row["status"]) == ("u7", "raw", "completed")
    description = await client.get_workflow_handle(execution_id).describe()
    assert row["run_id"] == description.run_id
    attributes = description.typed_search_attributes
    assert (attributes.get(USER), attributes.get(FLOW), attributes.get(STATUS)) == (
        "u7",
        "raw",
        "completed",
    )


@pytest.mark.parametrize(
    ("arg", "kind", "says"),
    [
        ({"user_id": "u7", "flow": {"name": "x", "nodes": []}}, "invalid_flow", "nodes"),
        (
            {"user_id": "u7", "flow": {**FLOW_DOC, "nodes": [{"id": "a", "type": "nope"}]}},
            "invalid_flow",
            "nope",
        ),
        ({"user_id": "u7", "flow": "not a flow"}, "invalid_flow", "not an object"),
        (
            {
                "user_id": "u7",
                "flow": {
                    "name": "big",
                    "nodes": [{"id": f"n{i}", "type": "transform"} for i in range(501)],
                },
            },
            "too_large",
            "FLOWMAESTRO_LIMITS__MAX_NODES",
        ),
        ({"user_id": "u7", "flow": FLOW_DOC, "inputs": {"who": 3}}, "invalid_inputs", "who"),
        ({"user_id": "u7", "flow": FLOW_DOC, "inputs": []}, "invalid_inputs", "not an object"),
    ],
)
async def test_a_malformed_raw_start_fails_fast_owned_and_listed(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    sequencer: Sequencer,
    arg: dict[str, Any],
    kind: str,
    says: str,
) -> None:
    client = await plain_client(temporal_env)
    async with worker(temporal_env.client, pool) as queue:
        execution_id = await start_raw(client, queue, arg)
        with pytest.raises(WorkflowFailureError) as failure:
            await client.get_workflow_handle(execution_id).result()
        events = await events_until(pool, execution_id)
    assert isinstance(failure.value.cause, ApplicationError)
    assert failure.value.cause.type == kind
    assert shape(events) == [("execution:started", None), ("execution:failed", None)]
    error = events[-1].envelope["data"]["error"]
    assert error["type"] == kind and says in error["message"]
    row = await pool.fetchrow("SELECT user_id, status FROM executions WHERE id = $1", execution_id)
    assert row is not None and (row["user_id"], row["status"]) == ("u7", "failed")
    history = await client.get_workflow_handle(execution_id).fetch_history()
    assert not [e for e in history.events if e.HasField("workflow_task_failed_event_attributes")]


async def test_an_undecodable_start_fails_the_workflow_not_its_tasks(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    client = await plain_client(temporal_env)
    async with worker(temporal_env.client, pool) as queue:
        execution_id = await start_raw(client, queue, {"flow": FLOW_DOC})  # no owner
        with pytest.raises(WorkflowFailureError):
            await client.get_workflow_handle(execution_id).result()
    assert await pool.fetchval("SELECT count(*) FROM executions") == 0


async def test_a_reused_id_of_another_owner_is_refused_without_events(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = await plain_client(temporal_env)
    async with worker(temporal_env.client, pool) as queue:
        first = {"user_id": "u7", "flow": FLOW_DOC, "inputs": {"who": "ada"}}
        execution_id = await start_raw(client, queue, first)
        await client.get_workflow_handle(execution_id).result()
        # A closed workflow's id may be reused in Temporal; here it belongs to u7 already.
        second = {"user_id": "u8", "flow": FLOW_DOC, "inputs": {"who": "eve"}}
        await client.start_workflow("ExecutionWorkflow", second, id=execution_id, task_queue=queue)
        with pytest.raises(WorkflowFailureError) as failure:
            await client.get_workflow_handle(execution_id).result()
    assert isinstance(failure.value.cause, ApplicationError)
    assert failure.value.cause.type == "execution_exists"
    owners = await pool.fetch("SELECT DISTINCT envelope->>'userId' FROM event_outbox")
    assert [r[0] for r in owners] == ["u7"]

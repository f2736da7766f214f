"""The plugin on a real Temporal dev server and Postgres: what a user's own workflow emits."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING, Any

import asyncpg
from temporalio.client import Client
from temporalio.worker import Worker

from flowmaestro.settings import Settings
from flowmaestro.temporal import FlowMaestroPlugin, start_options
from flowmaestro.workflows.messages import PENDING_INPUTS, PROVIDE_INPUT, PendingInput, ProvideInput
from tests.flowmaestro.temporal.own import ACTIVITIES, OrderWorkflow

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from temporalio.testing import WorkflowEnvironment


@contextlib.asynccontextmanager
async def plugin_worker(
    env: WorkflowEnvironment, dsn: str, task_queue: str
) -> AsyncIterator[Client]:
    """A client with the plugin (default converter: the plugin sets what it needs) and a
    worker built on it."""
    client = Client(
        env.client.service_client,
        namespace=env.client.namespace,
        plugins=[FlowMaestroPlugin(Settings(database_url=dsn))],
    )
    async with Worker(client, task_queue=task_queue, workflows=[OrderWorkflow], activities=ACTIVITIES):
        yield client


async def events_of(pool: asyncpg.Pool, execution_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT envelope FROM event_outbox WHERE envelope->>'executionId' = $1 ORDER BY seq",
        execution_id,
    )
    import json

    return [json.loads(r["envelope"]) for r in rows]


async def pending(handle: Any) -> list[PendingInput]:
    for _ in range(200):
        found: list[PendingInput] = await handle.query(PENDING_INPUTS, result_type=list[PendingInput])
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("no prompt")


async def test_a_tracked_run_is_an_execution(
    temporal_env: WorkflowEnvironment, database_dsn: str, pool: asyncpg.Pool
) -> None:
    queue = f"own-{uuid.uuid4().hex[:8]}"
    async with plugin_worker(temporal_env, database_dsn, queue) as client:
        handle = await client.start_workflow(
            OrderWorkflow.run, "o-1", id=f"order-{uuid.uuid4().hex[:8]}", task_queue=queue,
            **start_options("alice"),
        )
        [prompt] = await pending(handle)
        await handle.execute_update(
            PROVIDE_INPUT, ProvideInput(input_id=prompt.input_id, value=True)
        )
        result = await handle.result()
    assert result["approved"] is True
    events = await events_of(pool, handle.id)
    print([(e["type"], e["data"].get("nodeId")) for e in events])
    owner = await pool.fetchval("SELECT user_id FROM executions WHERE id = $1", handle.id)
    assert owner == "alice"

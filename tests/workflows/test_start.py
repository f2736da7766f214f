"""start_execution: the execution is registered when it returns; nothing is left behind
when Temporal refuses; inputs are checked before either."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from flowmaestro.flows.errors import FlowInputError
from flowmaestro.workflows import start_execution
from tests.support.ports import free_port
from tests.workflows.helpers import example

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment


async def test_the_owner_row_exists_with_the_resolved_inputs(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    # No worker polls this queue: the workflow waits, the row is what we check.
    execution_id = await start_execution(
        temporal_env.client,
        example("approval.yaml"),
        "u9",
        {"amount": 5},
        pool=pool,
        task_queue="nobody",
    )
    row = await pool.fetchrow("SELECT * FROM executions WHERE id = $1", execution_id)
    assert row is not None
    assert (row["user_id"], row["workflow_id"], row["status"]) == (
        "u9",
        "expense-approval",
        "pending",
    )
    assert row["inputs"] == '{"amount": 5, "requester": "someone"}'
    assert json.loads(row["graph"]) == {
        "nodes": [
            {
                "id": "check",
                "type": "condition",
                "after": [],
                "branches": {"then": ["approve"], "else": ["auto_approve"]},
            },
            {"id": "approve", "type": "user_input", "after": ["check"]},
            {"id": "auto_approve", "type": "transform", "after": ["check"]},
            {"id": "decide", "type": "transform", "after": ["approve", "auto_approve"]},
        ]
    }
    description = await temporal_env.client.get_workflow_handle(execution_id).describe()
    assert description.workflow_type == "ExecutionWorkflow"
    await temporal_env.client.get_workflow_handle(execution_id).terminate()


async def test_a_refused_start_leaves_no_execution(pool: asyncpg.Pool) -> None:
    client = await Client.connect(
        f"127.0.0.1:{free_port()}", lazy=True, data_converter=pydantic_data_converter
    )
    with pytest.raises(Exception):  # noqa: B017 - whatever the transport raises
        await start_execution(client, example("approval.yaml"), "u9", {"amount": 5}, pool=pool)
    assert await pool.fetchval("SELECT count(*) FROM executions") == 0


async def test_bad_inputs_are_refused_before_anything(pool: asyncpg.Pool) -> None:
    client = await Client.connect("127.0.0.1:1", lazy=True, data_converter=pydantic_data_converter)
    with pytest.raises(FlowInputError, match="input 'amount': required"):
        await start_execution(client, example("approval.yaml"), "u9", {}, pool=pool)
    assert await pool.fetchval("SELECT count(*) FROM executions") == 0

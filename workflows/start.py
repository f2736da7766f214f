"""Starting an execution through a Temporal client: the owner row first, then the workflow."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

from workflows.execution import ExecutionWorkflow
from workflows.messages import ExecutionInput

if TYPE_CHECKING:
    import asyncpg
    from pydantic import JsonValue
    from temporalio.client import Client

    from workflows.flow import Flow


def new_execution_id() -> str:
    return "ex_" + uuid.uuid4().hex


async def start_execution(
    client: Client,
    flow: Flow,
    user_id: str,
    inputs: dict[str, JsonValue],
    *,
    pool: asyncpg.Pool,
    task_queue: str = "flowmaestro",
) -> str:
    """Record the execution's owner, start its workflow, and return the execution id.

    The `executions` row exists before the workflow can emit its first event, so every event
    can be routed to its owner. Inputs are checked against the flow's declared inputs first
    (FlowInputError).
    """
    resolved = flow.resolve_inputs(inputs)
    execution_id = new_execution_id()
    await pool.execute(
        "INSERT INTO executions (id, user_id, workflow_id, inputs, graph) "
        "VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)",
        execution_id,
        user_id,
        flow.name,
        json.dumps(resolved),
        json.dumps(flow.graph()),
    )
    try:
        await client.start_workflow(
            ExecutionWorkflow.run,
            ExecutionInput(user_id=user_id, flow=flow, inputs=resolved),
            id=execution_id,
            task_queue=task_queue,
        )
    except BaseException:
        # Nothing started: leave no execution behind that would stay `pending` forever.
        await pool.execute("DELETE FROM executions WHERE id = $1", execution_id)
        raise
    return execution_id

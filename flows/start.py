"""Starting an execution from Python: a convenience over any Temporal client's start.

The workflow registers its own execution (activities/registration.py), so a plain
`client.start_workflow("ExecutionWorkflow", ...)` is enough. This helper adds what a
gateway caller wants: the inputs checked before anything starts (FlowInputError), a fresh
execution id, and the registration done before it returns, so the caller can subscribe to
the execution at once (the workflow's own registration then changes nothing).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from flowmaestro.flows.contract import WORKFLOW_TYPE
from flowmaestro.flows.messages import ExecutionInput
from flowmaestro.flows.registration import Registration, register

if TYPE_CHECKING:
    import asyncpg
    from pydantic import JsonValue
    from temporalio.client import Client

    from flowmaestro.events.outbox.connection import Connection
    from flowmaestro.flows.flow import Flow
    from flowmaestro.flows.messages import Visibility

TASK_QUEUE = "flowmaestro"


def new_execution_id() -> str:
    return "ex_" + uuid.uuid4().hex


async def start_execution(
    client: Client,
    flow: Flow,
    user_id: str,
    inputs: dict[str, JsonValue],
    *,
    pool: asyncpg.Pool | Connection,
    task_queue: str = TASK_QUEUE,
    workspace: str | None = None,
    visibility: Visibility | None = None,
) -> str:
    """Start `flow` for `user_id` of `workspace`, register it, and return the execution id.
    `visibility` (None: as the flow says, else private) says who of the workspace watches;
    `pool` may be one connection (the start quota's, which holds the user's start lock)."""
    resolved = flow.resolve_inputs(inputs)
    execution_id = new_execution_id()
    # By type name: a starter never loads the workflow's code (nor, through it, the worker's).
    handle = await client.start_workflow(
        WORKFLOW_TYPE,
        ExecutionInput(
            user_id=user_id,
            flow=flow.model_dump(mode="json", exclude_unset=True),
            inputs=resolved,
            workspace=workspace,
            visibility=visibility,
        ),
        id=execution_id,
        task_queue=task_queue,
    )
    assert handle.first_execution_run_id is not None
    await register(
        pool,
        Registration(
            execution_id=execution_id,
            run_id=handle.first_execution_run_id,
            user_id=user_id,
            flow_name=flow.name,
            inputs=resolved,
            graph=flow.graph(),
            workspace=workspace,
            visibility=visibility or flow.visibility or "private",
        ),
    )
    return execution_id

"""An execution's record: who owns it, of which flow, in which Temporal run. Written by
whatever starts it (`start_execution`, or the workflow's first activity for a run started by
another Temporal client), keyed by the execution id so a second write is a no-op."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from flowmaestro.events.model import added_field
from flowmaestro.flows.flow import Flow
from flowmaestro.flows.messages import Visibility

if TYPE_CHECKING:
    import asyncpg

    from flowmaestro.events.outbox.connection import Connection


# The flow name listed for a start whose flow has none (the flow is malformed).
UNNAMED = "(invalid flow)"

_REGISTER = """
INSERT INTO executions (id, user_id, workflow_id, inputs, run_id, graph, workspace_id, visibility)
VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7, $8)
ON CONFLICT (id) DO UPDATE SET run_id = EXCLUDED.run_id
WHERE executions.user_id = EXCLUDED.user_id
  AND executions.workspace_id IS NOT DISTINCT FROM EXCLUDED.workspace_id
  AND executions.workflow_id = EXCLUDED.workflow_id
  AND executions.run_id IS NOT DISTINCT FROM EXCLUDED.run_id
RETURNING 1
"""


class Registration(BaseModel):
    """Who owns the execution, of which flow, in which Temporal run (its first run)."""

    model_config = ConfigDict(frozen=True)

    execution_id: str
    run_id: str
    user_id: str
    flow_name: str
    inputs: dict[str, JsonValue]
    graph: dict[str, JsonValue] | None
    """The flow's graph for drawing it (None: the flow is malformed)."""
    workspace: str | None = None
    """The owner's workspace (None: their personal one)."""
    visibility: Visibility = "private"


async def register(pool: asyncpg.Pool | Connection, registration: Registration) -> bool:
    """Record the execution; False when its id is taken by another owner, flow or run."""
    row = await pool.fetchval(
        _REGISTER,
        registration.execution_id,
        registration.user_id,
        registration.flow_name,
        json.dumps(registration.inputs),
        registration.run_id,
        None if registration.graph is None else json.dumps(registration.graph),
        registration.workspace,
        registration.visibility,
    )
    return row is not None


class RegisterInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    execution_id: str
    run_id: str
    user_id: str
    flow: JsonValue
    inputs: JsonValue
    workspace: str | None = added_field()
    visibility: Visibility | None = added_field()
    """As the start said (None: as the flow says, else private)."""


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: str
    message: str


class Registered(BaseModel):
    """The outcome: a refused id, or a registered execution with its checked flow (or what
    is wrong with it), and whether the namespace knows FlowMaestro's search attributes."""

    model_config = ConfigDict(frozen=True)

    refused: bool = False
    flow_name: str = UNNAMED
    flow: Flow | None = None
    inputs: dict[str, JsonValue] = Field(default_factory=dict)
    problem: Problem | None = None
    search_attributes: bool = False

"""The demo execution `dev` starts: one flow that emits every event category (execution,
node, kb ingestion, agent streaming with tool calls, and a prompt waiting for a person)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flowmaestro.flows.flow import load_flow
from flowmaestro.flows.start import start_execution

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client

DEMO_FLOW = Path(__file__).resolve().parents[2] / "examples" / "agent_approval.yaml"


async def start_demo(client: Client, pool: asyncpg.Pool, user_id: str, task_queue: str) -> str:
    """Start the demo flow for `user_id` with its default inputs; return the execution id."""
    flow = load_flow(DEMO_FLOW)
    return await start_execution(client, flow, user_id, {}, pool=pool, task_queue=task_queue)

"""Running agent flows in tests: a worker with chosen agent services, and the agent events."""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING

from flowmaestro.events.outbox import PostgresEmitter
from flowmaestro.workflows.worker import build_worker
from tests.node_services import node_services

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg
    import httpx
    from temporalio.client import Client

    from flowmaestro.activities.agent.services import AgentServices
    from flowmaestro.events.outbox import StoredEvent


@contextlib.asynccontextmanager
async def agent_worker(
    client: Client, pool: asyncpg.Pool, http: httpx.AsyncClient, agents: AgentServices | None = None
) -> AsyncIterator[str]:
    """A worker on a fresh task queue for the block; yields the task queue."""
    task_queue = f"test-{uuid.uuid4().hex[:8]}"
    async with (
        node_services(pool, http=http, agents=agents) as services,
        build_worker(
            client,
            task_queue=task_queue,
            emitter=PostgresEmitter(pool),
            pool=pool,
            services=services,
        ),
    ):
        yield task_queue


def agent_shape(events: list[StoredEvent]) -> list[str]:
    """The agent events' types (tool calls with their status), runs of tokens folded to one."""
    shape: list[str] = []
    for e in events:
        if not e.type.startswith("agent:"):
            continue
        name = e.type
        if e.type == "agent:tool_call":
            name += ":" + e.envelope["data"]["status"]
        if name == "agent:token" and shape and shape[-1] == "agent:token+":
            continue
        shape.append("agent:token+" if name == "agent:token" else name)
    return shape


def rebuilt_text(events: list[StoredEvent], attempt: int = 1) -> str:
    """The response rebuilt from one attempt's tokens by offset, checking there is no gap."""
    tokens = sorted(
        (
            e.envelope["data"]
            for e in events
            if e.type == "agent:token" and e.envelope["data"]["attempt"] == attempt
        ),
        key=lambda d: d["index"],
    )
    text = ""
    for i, t in enumerate(tokens):
        assert (t["index"], t["offset"]) == (i, len(text)), "indexes and offsets have no gap"
        text += t["token"]
    return text

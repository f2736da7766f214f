"""Running flows in tests: an in-process worker and the outbox events of one execution."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from flowmaestro.activities.group_commit import GroupCommitEmitter
from flowmaestro.events.outbox import OutboxReader
from flowmaestro.flows.flow import Flow, load_flow
from flowmaestro.flows.start import start_execution
from flowmaestro.workflows.worker import WORKFLOWS, build_worker, sandbox_runner
from tests.node_services import node_services

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg
    from temporalio.client import Client

    from flowmaestro.events.outbox import Emitter, StoredEvent

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TERMINAL = {"execution:completed", "execution:failed"}


def example(name: str) -> Flow:
    return load_flow(EXAMPLES / name)


@contextlib.asynccontextmanager
async def worker(
    client: Client,
    pool: asyncpg.Pool,
    emitter: Emitter | None = None,
    *,
    task_queue: str | None = None,
) -> AsyncIterator[str]:
    """A worker for the block on `task_queue` (default: a fresh one); yields the queue."""
    task_queue = task_queue or f"test-{uuid.uuid4().hex[:8]}"
    async with (
        node_services(pool) as services,
        build_worker(
            client,
            task_queue=task_queue,
            emitter=emitter or GroupCommitEmitter(pool),
            pool=pool,
            services=services,
        ),
    ):
        yield task_queue


async def start(
    client: Client, pool: asyncpg.Pool, task_queue: str, flow: Flow, **inputs: Any
) -> str:
    return await start_execution(client, flow, "u1", inputs, pool=pool, task_queue=task_queue)


async def events_until(
    pool: asyncpg.Pool,
    execution_id: str,
    types: set[str] | None = None,
    *,
    node_id: str | None = None,
    timeout: float = 30,
) -> list[StoredEvent]:
    """The execution's sequenced events, up to and including the first of `types` (default:
    its end), of node `node_id` when given."""
    stop = types or TERMINAL
    got: list[StoredEvent] = []

    async def tail() -> None:
        async for stored in OutboxReader(pool, poll_interval=0.2).tail(0):
            if stored.envelope["executionId"] != execution_id:
                continue
            got.append(stored)
            if stored.type in stop and node_id in (None, stored.envelope["data"].get("nodeId")):
                return

    await asyncio.wait_for(tail(), timeout)
    return got


def shape(events: list[StoredEvent]) -> list[tuple[str, str | None]]:
    """(type, node id) of each event, in position order."""
    return [(e.type, e.envelope["data"].get("nodeId")) for e in events]


def node_events(events: list[StoredEvent], node_id: str) -> list[StoredEvent]:
    return [e for e in events if e.envelope["data"].get("nodeId") == node_id]


HISTORIES = Path(__file__).resolve().parent / "histories"


async def replay_and_record(client: Client, execution_id: str, name: str) -> None:
    """Replay the execution's history against today's workflow code (a nondeterminism error
    fails the test); with FLOWMAESTRO_RECORD_HISTORIES=1, also save it under histories/."""
    history = await client.get_workflow_handle(execution_id).fetch_history()
    replayer = Replayer(
        workflows=list(WORKFLOWS),
        data_converter=pydantic_data_converter,
        workflow_runner=sandbox_runner(),
    )
    await replayer.replay_workflow(history)
    if os.environ.get("FLOWMAESTRO_RECORD_HISTORIES"):
        HISTORIES.mkdir(exist_ok=True)
        recorded = {"workflowId": execution_id, "history": json.loads(history.to_json())}
        (HISTORIES / f"{name}.json").write_text(json.dumps(recorded, indent=1) + "\n")

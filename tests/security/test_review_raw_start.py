"""Review: a raw Temporal start is untrusted input too. Text Postgres cannot store (a NUL,
a lone surrogate) in the owner, the flow's name or the inputs made `register_execution`
fail on its insert and retry without end: an execution that never finished nor failed,
writing to Postgres every few seconds. It now fails at once, with nothing stored that
cannot be."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from temporalio.client import WorkflowFailureError

from tests.security.stack import TRIVIAL_FLOW
from tests.workflows.helpers import worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

STARTS: dict[str, dict[str, Any]] = {
    "owner": {"user_id": "mal\x00lory", "flow": TRIVIAL_FLOW, "inputs": {}},
    "flow name": {"user_id": "mallory", "flow": {**TRIVIAL_FLOW, "name": "t\x00"}, "inputs": {}},
    "unnamed invalid flow": {"user_id": "mallory", "flow": {"name": "t\x00"}, "inputs": {}},
    "inputs": {
        "user_id": "mallory",
        "flow": {**TRIVIAL_FLOW, "inputs": {"x": {"type": "string"}}},
        "inputs": {"x": "a\x00b"},
    },
    "undeclared input": {"user_id": "mallory", "flow": TRIVIAL_FLOW, "inputs": {"\x00": 1}},
    "node config": {
        "user_id": "mallory",
        "flow": {"name": "t", "nodes": [{"id": "t", "type": "transform", "config": {"\x00": 1}}]},
        "inputs": {},
    },
}


@pytest.mark.parametrize("name", sorted(STARTS))
async def test_unstorable_text_in_a_raw_start_fails_it_at_once(
    pool: asyncpg.Pool, temporal_env: WorkflowEnvironment, name: str
) -> None:
    client = temporal_env.client
    async with worker(client, pool) as queue:
        handle = await client.start_workflow(
            "ExecutionWorkflow",
            STARTS[name],
            id=f"ex_{uuid.uuid4().hex}",
            task_queue=queue,
            execution_timeout=None,
        )
        # Before: register_execution retried its failing insert without end.
        with pytest.raises(WorkflowFailureError):
            async with asyncio.timeout(30):
                await handle.result()
    row = await pool.fetchrow("SELECT user_id, status FROM executions WHERE id = $1", handle.id)
    if name == "owner":
        assert row is None  # no owner to show it to: refused before anything is stored
    else:
        assert row is not None and (row["user_id"], row["status"]) == ("mallory", "failed")

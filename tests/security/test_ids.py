"""Ids a user could choose are scoped to their owner or assigned by the server: nobody can
create another user's knowledge base first, nor take over an execution id."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from flowmaestro.flows.kb.store import named_knowledge_base_id
from tests.gateway.harness import Recorder
from tests.security.stack import TRIVIAL_FLOW, first_event, gateway_stack, still_serving

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

END = {"execution:completed", "execution:failed"}


def ingest(**target: str) -> dict[str, Any]:
    config = {**target, "file_name": "handbook.md", "text": "# Handbook\n\nBe kind."}
    return {"name": "ingest", "nodes": [{"id": "ingest", "type": "kb_ingest", "config": config}]}


def test_no_two_owners_and_names_derive_the_same_id() -> None:
    assert named_knowledge_base_id("a/b", "c") != named_knowledge_base_id("a", "b/c")
    assert named_knowledge_base_id("a%2Fb", "c") != named_knowledge_base_id("a/b", "c")


@pytest.mark.slow
async def test_alices_knowledge_base_cannot_be_squatted(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    handbook = named_knowledge_base_id("alice", "handbook")
    async with (
        gateway_stack(database_dsn, temporal_env.client) as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=30) as http,
    ):
        # Mallory asks for alice's future id: it does not exist for her, and is not created.
        squat = await http.post(
            "/api/executions",
            json={"flow": ingest(knowledge_base_id=handbook)},
            headers=stack.auth("mallory"),
        )
        assert squat.status_code == 201, squat.text
        failed, _ = await asyncio.gather(
            first_event(stack, "mallory", squat.json()["executionId"], {"node:failed"}),
            still_serving(stack),
        )
        assert failed["data"]["error"]["type"] == "not_found"
        assert failed["data"]["willRetry"] is False
        assert await pool.fetchval("SELECT count(*) FROM knowledge_bases") == 0
        # Mallory's own "handbook" is hers, under another id.
        own = await http.post(
            "/api/executions",
            json={"flow": ingest(knowledge_base_name="handbook")},
            headers=stack.auth("mallory"),
        )
        done = await first_event(stack, "mallory", own.json()["executionId"], END)
        assert done["type"] == "execution:completed", done
        # Alice's ingest works and is alice's.
        started = await http.post(
            "/api/executions",
            json={"flow": ingest(knowledge_base_name="handbook")},
            headers=stack.auth("alice"),
        )
        done = await first_event(stack, "alice", started.json()["executionId"], END)
        assert done["type"] == "execution:completed", done
        assert done["data"]["outputs"]["ingest"]["knowledgeBaseId"] == handbook
        rows = await pool.fetch("SELECT id, owner_id FROM knowledge_bases")
        owners = {r["id"]: r["owner_id"] for r in rows}
        assert owners[handbook] == "alice" and sorted(owners.values()) == ["alice", "mallory"]
        # ... and stays out of mallory's reach.
        upload = await http.post(
            f"/api/knowledge-bases/{handbook}/documents",
            files={"file": ("x.txt", b"mine now")},
            headers=stack.auth("mallory"),
        )
        assert upload.status_code == 403 and upload.json()["error"]["code"] == "forbidden"
        watcher = await Recorder().connect(stack.url, "mallory")
        refused = await watcher.call("subscribe", {"channel": f"kb:{handbook}"})
        assert refused["error"]["code"] == "forbidden"
        await watcher.close()


@pytest.mark.slow
async def test_an_execution_id_cannot_be_taken_by_another_start(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    client = temporal_env.client
    async with (
        gateway_stack(database_dsn, client) as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=30) as http,
    ):
        started = await http.post(
            "/api/executions", json={"flow": TRIVIAL_FLOW}, headers=stack.auth("alice")
        )
        execution_id = started.json()["executionId"]
        await first_event(stack, "alice", execution_id, END)
        # The end event is written just before the workflow returns: wait for it to close.
        await client.get_workflow_handle(execution_id).result()
        alice = await Recorder().connect(stack.url, "alice")
        assert (await alice.call("subscribe", {"channel": f"execution:{execution_id}"}))["ok"]
        # A closed workflow's id can be started again in Temporal: the new run must not
        # become mallory's execution, nor speak on alice's channels.
        await client.start_workflow(
            "ExecutionWorkflow",
            {"user_id": "mallory", "flow": TRIVIAL_FLOW, "inputs": {}},
            id=execution_id,
            task_queue=stack.queue,
        )
        with pytest.raises(WorkflowFailureError) as failure:
            await asyncio.gather(
                client.get_workflow_handle(execution_id).result(), still_serving(stack)
            )
        assert isinstance(failure.value.cause, ApplicationError)
        assert failure.value.cause.type == "execution_exists"
        row = await pool.fetchrow(
            "SELECT user_id, status FROM executions WHERE id = $1", execution_id
        )
        assert row is not None and (row["user_id"], row["status"]) == ("alice", "completed")
        theirs = await http.get(f"/api/executions/{execution_id}", headers=stack.auth("mallory"))
        assert theirs.status_code == 403
        # Anything the second run had emitted would be sequenced by now, behind this one.
        await still_serving(stack)
        assert alice.events == []
        await alice.close()

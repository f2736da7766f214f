"""The `kb_ingest` node in a flow (real Temporal and Postgres): a bad document fails the node
without retry and reports `kb:upload_failed` on the execution's channel too; another user's
knowledge base id is not found."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowmaestro.flows.flow import load_flow
from flowmaestro.flows.kb import store
from tests.workflows.helpers import events_until, start, worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

EMPTY = """
name: ingest-empty
nodes:
  - id: ingest
    type: kb_ingest
    retry: {max_attempts: 3, initial_interval_seconds: 0.1}
    config:
      knowledge_base_name: notes
      file_name: empty.md
      text: "#  \\n\\n"
"""


async def test_an_empty_document_fails_the_node_once(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    client = temporal_env.client
    async with worker(client, pool) as queue:
        execution_id = await start(client, pool, queue, load_flow(EMPTY))
        events = await events_until(pool, execution_id)
    failed_node = [e.envelope["data"] for e in events if e.type == "node:failed"]
    assert [(f["attempt"], f["willRetry"], f["error"]["type"]) for f in failed_node] == [
        (1, False, "empty_document")
    ]
    failed_kb = next(e for e in events if e.type == "kb:upload_failed")
    assert failed_kb.envelope["data"]["step"] == "extraction"
    kb_id = failed_kb.envelope["knowledgeBaseId"]
    assert failed_kb.channels == ("user:u1", f"execution:{execution_id}", f"kb:{kb_id}")
    assert events[-1].type == "execution:failed"


async def test_another_users_knowledge_base_is_not_found(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    theirs = await store.create_knowledge_base(pool, owner_id="someone-else", name="theirs")
    flow = load_flow(
        f"""
name: ingest-foreign
nodes:
  - id: ingest
    type: kb_ingest
    config: {{knowledge_base_id: {theirs.id}, file_name: a.txt, text: hello}}
"""
    )
    client = temporal_env.client
    async with worker(client, pool) as queue:
        execution_id = await start(client, pool, queue, flow)
        events = await events_until(pool, execution_id)
    failed = next(e for e in events if e.type == "node:failed").envelope["data"]
    assert (failed["error"]["type"], failed["willRetry"]) == ("not_found", False)
    assert not [e for e in events if e.type.startswith("kb:")]
    assert await pool.fetchval("SELECT count(*) FROM kb_documents") == 0


async def test_ingesting_the_same_text_again_adds_no_document(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    def flow(text: str) -> str:
        return f"""
name: ingest-twice
nodes:
  - id: ingest
    type: kb_ingest
    config: {{knowledge_base_name: notes, file_name: policy.md, text: "{text}"}}
"""

    client = temporal_env.client
    outputs = []
    async with worker(client, pool) as queue:
        for text in ("Refunds within 30 days.", "Refunds within 30 days.", "Refunds in 14 days."):
            execution_id = await start(client, pool, queue, load_flow(flow(text)))
            events = await events_until(pool, execution_id)
            assert events[-1].type == "execution:completed"
            assert "kb:upload_completed" in [e.type for e in events], "each run reports"
            outputs.append(events[-1].envelope["data"]["outputs"]["ingest"])
    assert outputs[0]["documentId"] == outputs[1]["documentId"] != outputs[2]["documentId"]
    assert outputs[1]["chunkCount"] == outputs[0]["chunkCount"] == 1
    documents = await pool.fetch("SELECT id, status FROM kb_documents ORDER BY created_at")
    assert [(d["id"], d["status"]) for d in documents] == [
        (outputs[0]["documentId"], "completed"),
        (outputs[2]["documentId"], "completed"),
    ]
    assert await pool.fetchval("SELECT count(*) FROM kb_chunks") == 2

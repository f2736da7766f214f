"""`KnowledgeBaseIngestWorkflow` on a real Temporal dev server and Postgres: a generated PDF,
a Markdown and an HTML file with progress per step and counts equal to the rows stored; a
corrupt PDF and an oversized file fail in extraction, with a clear error."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from temporalio.client import WorkflowFailureError

from flowmaestro.events.outbox import OutboxReader
from flowmaestro.flows.kb import store
from flowmaestro.flows.kb.start import (
    KnowledgeBaseNotFoundError,
    ingest_document,
)
from tests.activities.kb.documents import HTML, MARKDOWN, PHRASE, filler, pdf_bytes
from tests.workflows.helpers import replay_and_record, worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer, StoredEvent

END = {"kb:upload_completed", "kb:upload_failed"}


async def document_events(pool: asyncpg.Pool, document_id: str) -> list[StoredEvent]:
    """The document's sequenced kb events, through its completion or failure."""
    got: list[StoredEvent] = []

    async def tail() -> None:
        async for stored in OutboxReader(pool, poll_interval=0.2).tail(0):
            if stored.envelope["data"].get("documentId") != document_id:
                continue
            got.append(stored)
            if stored.type in END:
                return

    await asyncio.wait_for(tail(), 30)
    return got


def steps(events: list[StoredEvent]) -> list[tuple[str, float]]:
    return [
        (e.envelope["data"]["step"], e.envelope["data"]["progress"])
        for e in events
        if e.type == "kb:processing"
    ]


DOCUMENTS = [
    (
        "policy.pdf",
        pdf_bytes([filler("shipping", 15), f"Note that {PHRASE}.", filler("support", 15)]),
    ),
    ("handbook.md", MARKDOWN.encode()),
    ("policies.html", HTML.encode()),
]


@pytest.mark.parametrize(("file_name", "content"), DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
async def test_a_document_is_ingested_with_progress_and_true_counts(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    sequencer: Sequencer,
    file_name: str,
    content: bytes,
) -> None:
    client = temporal_env.client
    kb = await store.create_knowledge_base(
        pool, owner_id="u1", name="docs", chunk_size=300, chunk_overlap=50
    )
    async with worker(client, pool) as queue:
        handle = await ingest_document(
            client,
            pool,
            kb_id=kb.id,
            user_id="u1",
            file_name=file_name,
            content=store.Content.of(content),
            max_bytes=1 << 20,
            task_queue=queue,
        )
        result = await asyncio.wait_for(handle.result(), 30)
        document_id = handle.id.removeprefix("kb-ingest-")
        events = await document_events(pool, document_id)
        await replay_and_record(client, handle.id, f"kb_ingest_{file_name.replace('.', '_')}")

    chunks = await pool.fetchval(
        "SELECT count(*) FROM kb_chunks WHERE document_id = $1", document_id
    )
    embedded = await pool.fetchval(
        "SELECT count(*) FROM kb_chunks WHERE document_id = $1 AND cardinality(embedding) = 384",
        document_id,
    )
    assert chunks > 1
    assert (result.chunk_count, result.embedding_count) == (chunks, embedded) == (chunks, chunks)
    assert (
        await pool.fetchval("SELECT status FROM kb_documents WHERE id = $1", document_id)
        == "completed"
    )

    assert events[0].type == "kb:upload_started"
    assert events[0].envelope["data"] == {
        "knowledgeBaseId": kb.id,
        "documentId": document_id,
        "fileName": file_name,
        "fileSize": len(content),
    }
    assert events[-1].type == "kb:upload_completed"
    done = events[-1].envelope["data"]
    assert (done["chunkCount"], done["embeddingCount"]) == (chunks, embedded)
    assert {e.type for e in events[1:-1]} == {"kb:processing"}
    for e in events:
        assert e.envelope["knowledgeBaseId"] == kb.id
        assert e.channels == ("user:u1", f"kb:{kb.id}")

    progress = steps(events)
    order = ["extraction", "chunking", "embedding", "storage"]
    assert [s for s, _ in progress] == sorted((s for s, _ in progress), key=order.index)
    for step in order[:3]:
        values = [p for s, p in progress if s == step]
        assert values[0] == 0 and values[-1] == 100 and values == sorted(values), (step, values)
    assert progress[-1] == ("storage", 100)
    if file_name.endswith(".pdf"):
        # One report per page read.
        assert [p for s, p in progress if s == "extraction"] == [0, 33.3, 66.7, 100]


@pytest.mark.parametrize(
    ("file_name", "content", "max_bytes", "type"),
    [
        ("corrupt.pdf", b"%PDF-1.7\n1 0 obj <</Type /Catalog>> broken", 1 << 20, "unreadable_pdf"),
        ("big.md", b"# Big\n\n" + b"word " * 1000, 1000, "too_large"),
        ("empty.html", b"<html><body>   </body></html>", 1 << 20, "empty_document"),
    ],
    ids=["corrupt-pdf", "too-large", "empty"],
)
async def test_a_bad_document_fails_in_extraction(
    temporal_env: WorkflowEnvironment,
    pool: asyncpg.Pool,
    sequencer: Sequencer,
    file_name: str,
    content: bytes,
    max_bytes: int,
    type: str,
) -> None:
    client = temporal_env.client
    kb = await store.create_knowledge_base(pool, owner_id="u1", name="docs")
    async with worker(client, pool) as queue:
        handle = await ingest_document(
            client,
            pool,
            kb_id=kb.id,
            user_id="u1",
            file_name=file_name,
            content=store.Content.of(content),
            max_bytes=max_bytes,
            task_queue=queue,
        )
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(handle.result(), 30)
        document_id = handle.id.removeprefix("kb-ingest-")
        events = await document_events(pool, document_id)
    assert [e.type for e in events] == ["kb:upload_started", "kb:processing", "kb:upload_failed"]
    failed = events[-1].envelope["data"]
    assert failed["step"] == "extraction"
    assert failed["error"]["type"] == type
    assert failed["error"]["message"].startswith(file_name)
    row = await pool.fetchrow("SELECT status, error FROM kb_documents WHERE id = $1", document_id)
    assert row is not None and row["status"] == "failed"
    assert (
        await pool.fetchval("SELECT count(*) FROM kb_chunks WHERE document_id = $1", document_id)
        == 0
    )


async def test_only_the_owner_can_ingest(
    temporal_env: WorkflowEnvironment, pool: asyncpg.Pool
) -> None:
    kb_id = (await store.create_knowledge_base(pool, owner_id="u1", name="private")).id
    with pytest.raises(KnowledgeBaseNotFoundError):
        await ingest_document(
            temporal_env.client,
            pool,
            kb_id=kb_id,
            user_id="u2",
            file_name="a.txt",
            content=store.Content.of(b"text"),
            max_bytes=1 << 20,
        )
    assert await pool.fetchval("SELECT count(*) FROM kb_documents") == 0

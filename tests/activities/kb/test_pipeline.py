"""A document's final status and its event are one write: when the event cannot be written,
the status is not changed either, and a retried step writes both once."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from flowmaestro.activities.kb.embedder import Embedders
from flowmaestro.activities.kb.pipeline import Ingestion
from flowmaestro.activities.write_retry import WriteRetry
from flowmaestro.events.outbox import PostgresEmitter
from flowmaestro.flows.kb import store
from flowmaestro.flows.kb.document_ref import DocumentRef

# Rejects the next final event, as a failure between the status and its event would.
_REJECT_FINAL_EVENTS = """
CREATE FUNCTION reject_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'rejected %', NEW.type; END $$;
CREATE TRIGGER reject_final BEFORE INSERT ON event_outbox FOR EACH ROW
WHEN (NEW.type IN ('kb:upload_completed', 'kb:upload_failed')) EXECUTE FUNCTION reject_final();
"""


async def ingested(pool: asyncpg.Pool, http: httpx.AsyncClient) -> Ingestion:
    kb = await store.create_knowledge_base(
        pool, owner_id="u1", name="docs", chunk_size=50, chunk_overlap=0
    )
    content = b"one two three four five six seven eight nine ten eleven twelve"
    document = await store.create_document(
        pool, kb, file_name="a.txt", content=content, file_size=len(content)
    )
    ingestion = Ingestion(
        DocumentRef(
            knowledge_base_id=kb.id,
            document_id=document.id,
            user_id="u1",
            file_name="a.txt",
            file_size=len(content),
        ),
        pool=pool,
        emitter=PostgresEmitter(pool),
        embedders=Embedders(http),
        writes=WriteRetry(),
    )
    await ingestion.extract(1 << 20)
    await ingestion.chunk()
    await ingestion.embed()
    return ingestion


async def final_state(pool: asyncpg.Pool, document_id: str) -> tuple[str, list[str]]:
    status = await pool.fetchval("SELECT status FROM kb_documents WHERE id = $1", document_id)
    types = await pool.fetch(
        "SELECT type FROM event_outbox WHERE type IN ('kb:upload_completed', 'kb:upload_failed')"
        " AND envelope->'data'->>'documentId' = $1",
        document_id,
    )
    return status, [r["type"] for r in types]


@pytest.mark.parametrize("outcome", ["completed", "failed"])
async def test_the_status_is_written_with_its_event_or_not_at_all(
    pool: asyncpg.Pool, outcome: str
) -> None:
    async with httpx.AsyncClient() as http:
        ingestion = await ingested(pool, http)

    async def settle() -> None:
        if outcome == "completed":
            await ingestion.complete(started_at=0)
        else:
            await ingestion.fail("embedding", "the embedder said no", "embedder_error")

    doc_id = ingestion.doc.document_id
    await pool.execute(_REJECT_FINAL_EVENTS)
    with pytest.raises(asyncpg.RaiseError):
        await settle()
    assert await final_state(pool, doc_id) == ("processing", [])

    await pool.execute("DROP TRIGGER reject_final ON event_outbox")
    await settle()
    await settle()  # a retried step: the same event id, no second row
    assert await final_state(pool, doc_id) == (outcome, [f"kb:upload_{outcome}"])

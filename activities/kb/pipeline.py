"""The ingestion steps of one document, each idempotent and reporting its progress.

Each step reads what the previous one stored (so a step can run on any worker and be
retried alone) and emits `kb:processing` events whose ids depend on (document, step,
progress), so a retried step writes no duplicate. Every read and write of the database
outlasts an outage (activities/write_retry.py): a step waits for Postgres rather than
failing, and a statement is simply run again. Used by `KnowledgeBaseIngestWorkflow`'s
activities (one per step) and by the `kb_ingest` node (all steps in one activity).
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING, TypeVar

from flowmaestro.activities.kb.chunking import chunk_text
from flowmaestro.activities.kb.extraction import extract_text
from flowmaestro.events.catalogue.common import ErrorInfo
from flowmaestro.events.catalogue.kb import (
    KbProcessingData,
    KbStep,
    KbUploadCompletedData,
    KbUploadFailedData,
    KbUploadStartedData,
)
from flowmaestro.events.outbox import write_events
from flowmaestro.flows.kb import store
from flowmaestro.flows.kb.errors import KbError

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import asyncpg

    from flowmaestro.activities.kb.embedder import Embedders
    from flowmaestro.activities.write_retry import WriteRetry
    from flowmaestro.events import Event
    from flowmaestro.events.outbox import Emitter
    from flowmaestro.flows.kb.document_ref import DocumentRef

T = TypeVar("T")

EMBED_BATCH = 64


class Ingestion:
    """The steps for one document, bound to the database, emitter and embedders."""

    def __init__(
        self,
        doc: DocumentRef,
        *,
        pool: asyncpg.Pool,
        emitter: Emitter,
        embedders: Embedders,
        writes: WriteRetry,
    ) -> None:
        self.doc = doc
        self._pool = pool
        self._emitter = emitter
        self._embedders = embedders
        self._writes = writes

    async def _db(self, statement: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
        return await self._writes.run(lambda: statement(self._pool))

    async def _progress(self, step: KbStep, progress: float) -> None:
        progress = round(progress, 1)
        data = KbProcessingData(document_id=self.doc.document_id, step=step, progress=progress)
        await self._emitter.emit([self.doc.event((step, str(progress)), data)])

    async def extract(self, max_bytes: int) -> int:
        """Announce the upload, extract its text and store it; the text's length."""
        doc = self.doc
        started = KbUploadStartedData(
            knowledge_base_id=doc.knowledge_base_id,
            document_id=doc.document_id,
            file_name=doc.file_name,
            file_size=doc.file_size,
        )
        await self._emitter.emit([doc.event((), started)])
        await self._progress("extraction", 0)
        if doc.file_size > max_bytes:
            raise KbError(
                f"{doc.file_name} is {doc.file_size} bytes, over the {max_bytes}-byte limit",
                step="extraction",
                type="too_large",
            )
        content = await self._db(lambda p: store.load_content(p, doc.document_id))
        if content is None:
            raise KbError(
                f"{doc.file_name}: no content stored", step="extraction", type="missing_content"
            )

        async def on_progress(done: int, total: int) -> None:
            if done < total:
                await self._progress("extraction", 100 * done / total)

        text = await extract_text(doc.file_name, content, on_progress)
        await self._db(lambda p: store.save_text(p, doc.document_id, text))
        await self._progress("extraction", 100)
        return len(text)

    async def chunk(self) -> int:
        """Split the stored text with the knowledge base's size and overlap; the chunk count."""
        await self._progress("chunking", 0)
        kb = await self._db(
            lambda p: store.load_knowledge_base(p, self.doc.knowledge_base_id, self.doc.user_id)
        )
        text = await self._db(lambda p: store.load_text(p, self.doc.document_id))
        chunks = chunk_text(text, kb.chunk_size, kb.chunk_overlap)
        await self._progress("chunking", 50)
        await self._db(lambda p: store.replace_chunks(p, self._document(), chunks))
        await self._progress("chunking", 100)
        return len(chunks)

    async def embed(self) -> int:
        """Embed and store every chunk still without a vector, in batches; the embedded count."""
        kb = await self._db(
            lambda p: store.load_knowledge_base(p, self.doc.knowledge_base_id, self.doc.user_id)
        )
        embedder = self._embedders.get(kb.embedding_model)
        total, embedded = await self._db(lambda p: store.chunk_counts(p, self.doc.document_id))
        await self._progress("embedding", 100 * embedded / total if total else 0)
        while batch := await self._db(
            lambda p: store.unembedded_chunks(p, self.doc.document_id, EMBED_BATCH)
        ):
            vectors = await embedder.embed([content for _, content in batch])
            await self._db(
                functools.partial(
                    store.save_embeddings,
                    document_id=self.doc.document_id,
                    indexes=[i for i, _ in batch],
                    vectors=vectors,
                )
            )
            embedded += len(batch)
            await self._progress("embedding", 100 * embedded / total)
        await self._progress("storage", 100)
        return embedded

    async def complete(self, started_at: float) -> tuple[int, int]:
        """Mark the document completed and announce its counts, read back from the rows."""
        chunks, embedded = await self._db(lambda p: store.chunk_counts(p, self.doc.document_id))
        completed = KbUploadCompletedData(
            document_id=self.doc.document_id,
            chunk_count=chunks,
            embedding_count=embedded,
            duration_ms=max(0, int((time.time() - started_at) * 1000)),
        )
        await self._settle("completed", None, self.doc.event((), completed))
        return chunks, embedded

    async def fail(self, step: KbStep, message: str, type: str) -> None:
        error = ErrorInfo(message=message, type=type)
        failed = KbUploadFailedData(document_id=self.doc.document_id, step=step, error=error)
        await self._settle("failed", error, self.doc.event((), failed))

    async def _settle(self, status: str, error: ErrorInfo | None, event: Event) -> None:
        """The document's final status and its event, in one transaction: neither without
        the other, whatever fails between them."""

        async def write(pool: asyncpg.Pool) -> None:
            async with pool.acquire() as con, con.transaction():
                await store.set_status(con, self.doc.document_id, status, error)
                await write_events(con, [event])

        await self._db(write)

    def _document(self) -> store.Document:
        d = self.doc
        return store.Document(d.document_id, d.knowledge_base_id, d.file_name, d.file_size)

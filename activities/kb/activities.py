"""The activities of `KnowledgeBaseIngestWorkflow`: one per ingestion step.

A `KbError` becomes an ApplicationError of the same type (non-retryable when the document
itself is at fault); the workflow reports the failed step with `kb_fail`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict
from temporalio import activity
from temporalio.exceptions import ApplicationError

from flowmaestro.activities.heartbeat import heartbeating
from flowmaestro.activities.kb.pipeline import Ingestion
from flowmaestro.events.catalogue.kb import KbStep
from flowmaestro.flows.kb.document_ref import DocumentRef
from flowmaestro.flows.kb.errors import KbError
from flowmaestro.flows.kb.start import CompleteResult

if TYPE_CHECKING:
    from collections.abc import Awaitable

    import asyncpg

    from flowmaestro.activities.kb.embedder import Embedders
    from flowmaestro.activities.write_retry import WriteRetry
    from flowmaestro.events.outbox import Emitter


class ExtractInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    doc: DocumentRef
    max_bytes: int


class StepInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    doc: DocumentRef


class CompleteInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    doc: DocumentRef
    started_at: float
    """Unix time the workflow started (for `durationMs`)."""


class FailInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    doc: DocumentRef
    step: KbStep
    message: str
    type: str


class KbActivities:
    def __init__(
        self, pool: asyncpg.Pool, emitter: Emitter, embedders: Embedders, writes: WriteRetry
    ) -> None:
        self._pool = pool
        self._emitter = emitter
        self._embedders = embedders
        self._writes = writes

    def _ingestion(self, doc: DocumentRef) -> Ingestion:
        return Ingestion(
            doc,
            pool=self._pool,
            emitter=self._emitter,
            embedders=self._embedders,
            writes=self._writes,
        )

    @activity.defn(name="kb_extract")
    async def extract(self, inp: ExtractInput) -> int:
        return await _reported(self._ingestion(inp.doc).extract(inp.max_bytes))

    @activity.defn(name="kb_chunk")
    async def chunk(self, inp: StepInput) -> int:
        return await _reported(self._ingestion(inp.doc).chunk())

    @activity.defn(name="kb_embed")
    async def embed(self, inp: StepInput) -> int:
        return await _reported(self._ingestion(inp.doc).embed())

    @activity.defn(name="kb_complete")
    async def complete(self, inp: CompleteInput) -> CompleteResult:
        async with heartbeating():
            chunks, embedded = await self._ingestion(inp.doc).complete(inp.started_at)
        return CompleteResult(chunk_count=chunks, embedding_count=embedded)

    @activity.defn(name="kb_fail")
    async def fail(self, inp: FailInput) -> None:
        async with heartbeating():
            await self._ingestion(inp.doc).fail(inp.step, inp.message, inp.type)


async def _reported(step: Awaitable[int]) -> int:
    """Run a step heartbeating (it may wait out an outage); a KbError becomes its failure."""
    try:
        async with heartbeating():
            return await step
    except KbError as exc:
        raise ApplicationError(
            exc.message, {"step": exc.step}, type=exc.type, non_retryable=not exc.retryable
        ) from exc

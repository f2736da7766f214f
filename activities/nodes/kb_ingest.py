"""`kb_ingest`: ingest one file (or literal text) into a knowledge base from a flow.

All steps run in this node's activity, with the same `kb:*` events as
`KnowledgeBaseIngestWorkflow` (also sent to the execution's channel). A named knowledge base
is created for the execution's user when it does not exist; a given `knowledge_base_id` must
already be theirs (another user's, or none, is `not_found`): no flow creates a knowledge base
under an id it chose. The document id is derived from the knowledge base, the file name and
the bytes, so a retried attempt (or a re-run) resumes the same document.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import PurePath
from typing import TYPE_CHECKING

from flowmaestro.activities.agent.services import AgentServices
from flowmaestro.activities.errors import NodeError
from flowmaestro.activities.kb.import_root import read_under
from flowmaestro.activities.kb.pipeline import Ingestion
from flowmaestro.activities.nodes.base import NodeContext, NodeExecutor, NodeResult
from flowmaestro.flows.kb import store
from flowmaestro.flows.kb.document_ref import DocumentRef
from flowmaestro.flows.kb.errors import KbError
from flowmaestro.flows.nodes.kb_ingest import KbIngest, KbIngestConfig

if TYPE_CHECKING:
    from pathlib import Path


class KbIngestExecutor(KbIngest, NodeExecutor[KbIngestConfig]):
    async def execute(self, config: KbIngestConfig, ctx: NodeContext) -> NodeResult:
        pool = ctx.services.pool
        if pool is None:
            raise NodeError("kb_ingest needs the database", type="kb_unavailable", retryable=False)
        services = ctx.services.agents or AgentServices.offline(ctx.services.http)
        started_at = time.time()
        max_bytes = min(config.max_bytes, ctx.services.limits.max_document_bytes)
        try:
            content, file_name = await _source(
                config, ctx.services.limits.kb_import_root, max_bytes
            )
        except KbError as exc:
            raise NodeError(exc.message, type=exc.type, retryable=False) from exc
        user_id = ctx.execution.user_id
        writes = ctx.services.writes
        try:
            # A given id must exist and be the user's; only a named one is created (its id
            # derived from the owner and name, so nobody else can take it first).
            if config.knowledge_base_id is not None:
                kb_id = config.knowledge_base_id
                kb = await writes.run(lambda: store.load_knowledge_base(pool, kb_id, user_id))
            else:
                kb = await writes.run(
                    lambda: store.named_knowledge_base(
                        pool, owner_id=user_id, name=config.knowledge_base_name
                    )
                )
            # Idempotent by content: the same file (name and bytes) in the same knowledge base
            # is one document, however many executions ingest it (a re-run demo adds nothing).
            document_id = store.content_document_id(kb.id, file_name, content)
            await writes.run(
                lambda: store.create_document(
                    pool,
                    kb,
                    file_name=file_name,
                    content=content if len(content) <= max_bytes else None,
                    file_size=len(content),
                    document_id=document_id,
                )
            )
        except KbError as exc:
            raise NodeError(exc.message, type=exc.type, retryable=False) from exc
        ingestion = Ingestion(
            DocumentRef(
                knowledge_base_id=kb.id,
                document_id=document_id,
                user_id=user_id,
                file_name=file_name,
                file_size=len(content),
                execution_id=ctx.execution.execution_id,
            ),
            pool=pool,
            emitter=ctx.emitter,
            embedders=services.embedders,
            writes=writes,
        )
        try:
            await ingestion.extract(max_bytes)
            await ingestion.chunk()
            await ingestion.embed()
        except KbError as exc:
            # A retryable failure gets another attempt (visible as node:failed willRetry).
            if not exc.retryable:
                await ingestion.fail(exc.step, exc.message, exc.type)
            raise NodeError(
                f"{exc.step}: {exc.message}", type=exc.type, retryable=exc.retryable
            ) from exc
        chunks, embedded = await ingestion.complete(started_at)
        return NodeResult(
            {
                "knowledgeBaseId": kb.id,
                "documentId": document_id,
                "chunkCount": chunks,
                "embeddingCount": embedded,
            }
        )


async def _source(
    config: KbIngestConfig, import_root: Path | None, max_bytes: int
) -> tuple[bytes, str]:
    if config.text is not None:
        assert config.file_name is not None
        return config.text.encode(), config.file_name
    assert config.path is not None
    content = await asyncio.to_thread(read_under, import_root, config.path, max_bytes)
    return content, config.file_name or PurePath(config.path).name

"""Starting a document's ingestion from any Temporal client: the upload is recorded (the
document row, in its owner's knowledge base) before the workflow starts, so watchers see it
at once; the workflow (workflows/kb_ingest.py) is started by its type name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ConfigDict

from flowmaestro.flows.errors import FlowsError
from flowmaestro.flows.kb import store
from flowmaestro.flows.kb.document_ref import DocumentRef
from flowmaestro.flows.kb.errors import KbError

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client, WorkflowHandle

    from flowmaestro.flows.kb.store import Content

KB_INGEST_WORKFLOW: Final = "KnowledgeBaseIngestWorkflow"


class KnowledgeBaseNotFoundError(FlowsError):
    """The user owns no knowledge base of that id (another user's does not exist for them)."""

    def __init__(self, kb_id: str, user_id: str) -> None:
        super().__init__(f"no knowledge base {kb_id!r} for user {user_id!r}")
        self.kb_id = kb_id
        self.user_id = user_id


class CompleteResult(BaseModel):
    """The ingestion's result: what the document became."""

    model_config = ConfigDict(frozen=True)

    chunk_count: int
    embedding_count: int


class KbIngestInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    doc: DocumentRef
    max_bytes: int


async def ingest_document(
    client: Client,
    pool: asyncpg.Pool,
    *,
    kb_id: str,
    user_id: str,
    file_name: str,
    content: Content,
    max_bytes: int,
    task_queue: str = "flowmaestro",
) -> WorkflowHandle[Any, CompleteResult]:
    """Record the upload in `user_id`'s knowledge base and start its ingestion.

    The bytes stream into Postgres (see `store.copy_document`). A file over `max_bytes` is
    recorded without its content and fails in extraction, so watchers see why. The workflow
    id is `kb-ingest-{document id}`.
    """
    try:
        kb = await store.load_knowledge_base(pool, kb_id, user_id)
    except KbError as exc:
        raise KnowledgeBaseNotFoundError(kb_id, user_id) from exc
    document = await store.copy_document(
        pool, kb, file_name=file_name, content=content, refused=content.size > max_bytes
    )
    doc = DocumentRef(
        knowledge_base_id=kb.id,
        document_id=document.id,
        user_id=user_id,
        file_name=file_name,
        file_size=content.size,
    )
    # By type name: a starter never loads the workflow's code (nor, through it, the worker's).
    return await client.start_workflow(
        KB_INGEST_WORKFLOW,
        KbIngestInput(doc=doc, max_bytes=max_bytes),
        id=f"kb-ingest-{document.id}",
        task_queue=task_queue,
        result_type=CompleteResult,
    )

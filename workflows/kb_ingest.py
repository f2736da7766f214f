"""`KnowledgeBaseIngestWorkflow`: one document through extraction, chunking and embedding.

Each step is its own activity (retried alone; each reads what the previous one stored), and
a failed step ends in `kb:upload_failed` naming it. For Temporal clients (the CLI, the
gateway): `create_knowledge_base`, and `ingest_document`, which records the upload (the
document row, in its owner's knowledge base) before the workflow starts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from flowmaestro.activities.kb import store
    from flowmaestro.activities.kb.activities import (
        CompleteInput,
        CompleteResult,
        ExtractInput,
        FailInput,
        KbActivities,
        StepInput,
    )
    from flowmaestro.activities.kb.document_ref import DocumentRef
    from flowmaestro.activities.kb.errors import KbError
    from flowmaestro.activities.kb.store import Content
    from flowmaestro.events.catalogue.kb import KbStep
    from flowmaestro.workflows.errors import WorkflowsError
    from flowmaestro.workflows.timeouts import HEARTBEAT, WRITE_ROOM

__all__ = [
    "Content",
    "KbIngestInput",
    "KnowledgeBaseIngestWorkflow",
    "KnowledgeBaseNotFoundError",
    "create_knowledge_base",
    "ingest_document",
]

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client, WorkflowHandle

# A step's own work, plus room for its database statements to wait out an outage (they do
# so inside the activity, heartbeating: an outage does not spend the step's attempts).
_STEP_TIMEOUT = timedelta(minutes=10) + WRITE_ROOM
_STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=5,
)
# Reporting must eventually succeed: past the write deadline, retry without limit.
_REPORT_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=100), maximum_interval=timedelta(seconds=10)
)
_REPORT_TIMEOUT = WRITE_ROOM


class KnowledgeBaseNotFoundError(WorkflowsError):
    """The user owns no knowledge base of that id (another user's does not exist for them)."""

    def __init__(self, kb_id: str, user_id: str) -> None:
        super().__init__(f"no knowledge base {kb_id!r} for user {user_id!r}")
        self.kb_id = kb_id
        self.user_id = user_id


class KbIngestInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    doc: DocumentRef
    max_bytes: int


@workflow.defn(name="KnowledgeBaseIngestWorkflow")
class KnowledgeBaseIngestWorkflow:
    @workflow.run
    async def run(self, inp: KbIngestInput) -> CompleteResult:
        started_at = workflow.now().timestamp()
        step: KbStep = "extraction"
        try:
            await workflow.execute_activity_method(
                KbActivities.extract,
                ExtractInput(doc=inp.doc, max_bytes=inp.max_bytes),
                start_to_close_timeout=_STEP_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=_STEP_RETRY,
            )
            step = "chunking"
            await workflow.execute_activity_method(
                KbActivities.chunk,
                StepInput(doc=inp.doc),
                start_to_close_timeout=_STEP_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=_STEP_RETRY,
            )
            step = "embedding"
            await workflow.execute_activity_method(
                KbActivities.embed,
                StepInput(doc=inp.doc),
                start_to_close_timeout=_STEP_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=_STEP_RETRY,
            )
        except ActivityError as exc:
            cause = exc.cause
            message = cause.message if isinstance(cause, FailureError) else exc.message
            type = cause.type if isinstance(cause, ApplicationError) and cause.type else "failed"
            await workflow.execute_activity_method(
                KbActivities.fail,
                FailInput(doc=inp.doc, step=step, message=message, type=type),
                start_to_close_timeout=_REPORT_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=_REPORT_RETRY,
            )
            raise ApplicationError(
                f"{step} failed: {message}", {"step": step}, type=type, non_retryable=True
            ) from exc
        return await workflow.execute_activity_method(
            KbActivities.complete,
            CompleteInput(doc=inp.doc, started_at=started_at),
            start_to_close_timeout=_REPORT_TIMEOUT,
            heartbeat_timeout=HEARTBEAT,
            retry_policy=_REPORT_RETRY,
        )


async def create_knowledge_base(
    pool: asyncpg.Pool,
    *,
    owner_id: str,
    name: str,
    embedding_model: str = "hash-384",
    chunk_size: int = 800,
    chunk_overlap: int = 100,
) -> str:
    """Create a knowledge base owned by `owner_id`; its id. Needs 0 <= overlap < size."""
    kb = await store.create_knowledge_base(
        pool,
        owner_id=owner_id,
        name=name,
        embedding_model=embedding_model,
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
    )
    return kb.id


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
) -> WorkflowHandle[KnowledgeBaseIngestWorkflow, CompleteResult]:
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
    return await client.start_workflow(
        KnowledgeBaseIngestWorkflow.run,
        KbIngestInput(doc=doc, max_bytes=max_bytes),
        id=f"kb-ingest-{document.id}",
        task_queue=task_queue,
    )

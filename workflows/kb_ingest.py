"""`KnowledgeBaseIngestWorkflow`: one document through extraction, chunking and embedding.

Each step is its own activity (retried alone; each reads what the previous one stored), and
a failed step ends in `kb:upload_failed` naming it. Clients start it by name
(flows/kb/start.py: `ingest_document`).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from flowmaestro.activities.kb.activities import (
        CompleteInput,
        ExtractInput,
        FailInput,
        KbActivities,
        StepInput,
    )
    from flowmaestro.events.catalogue.kb import KbStep
    from flowmaestro.flows.kb.start import KB_INGEST_WORKFLOW, CompleteResult, KbIngestInput
    from flowmaestro.workflows.timeouts import HEARTBEAT, WRITE_ROOM


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


@workflow.defn(name=KB_INGEST_WORKFLOW)
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

"""`kb:*` events: one document's ingestion into a knowledge base."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from flowmaestro.events.catalogue.common import ErrorInfo
from flowmaestro.events.model import Envelope, WireModel

KbStep = Literal["extraction", "chunking", "embedding", "storage"]


class KbUploadStartedData(WireModel):
    knowledge_base_id: str
    document_id: str
    file_name: str
    file_size: int = Field(ge=0)


class KbProcessingData(WireModel):
    document_id: str
    step: KbStep
    progress: float = Field(ge=0, le=100)


class KbUploadCompletedData(WireModel):
    document_id: str
    chunk_count: int = Field(ge=0)
    embedding_count: int = Field(ge=0)
    duration_ms: int = Field(ge=0)


class KbUploadFailedData(WireModel):
    document_id: str
    step: KbStep
    error: ErrorInfo


class KbUploadStarted(Envelope):
    type: Literal["kb:upload_started"] = "kb:upload_started"
    data: KbUploadStartedData


class KbProcessing(Envelope):
    type: Literal["kb:processing"] = "kb:processing"
    data: KbProcessingData


class KbUploadCompleted(Envelope):
    type: Literal["kb:upload_completed"] = "kb:upload_completed"
    data: KbUploadCompletedData


class KbUploadFailed(Envelope):
    type: Literal["kb:upload_failed"] = "kb:upload_failed"
    data: KbUploadFailedData

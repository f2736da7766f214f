"""`execution:*` events: one execution of a flow, start to end."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, JsonValue

from flowmaestro.events.catalogue.common import ErrorInfo
from flowmaestro.events.model import Envelope, WireModel

ExecutionStatus = Literal["pending", "running", "waiting", "completed", "failed", "cancelled"]


class ExecutionStartedData(WireModel):
    workflow_id: str
    status: ExecutionStatus
    started_at: datetime
    inputs: dict[str, JsonValue]


class ExecutionUpdatedData(WireModel):
    status: ExecutionStatus
    current_node_id: str | None
    progress: float = Field(ge=0, le=100)
    completed_nodes: int = Field(ge=0)
    total_nodes: int = Field(ge=0)


class ExecutionCompletedData(WireModel):
    outputs: dict[str, JsonValue]
    duration_ms: int = Field(ge=0)


class ExecutionFailedData(WireModel):
    error: ErrorInfo
    failed_node_id: str | None


class ExecutionStarted(Envelope):
    type: Literal["execution:started"] = "execution:started"
    data: ExecutionStartedData


class ExecutionUpdated(Envelope):
    type: Literal["execution:updated"] = "execution:updated"
    data: ExecutionUpdatedData


class ExecutionCompleted(Envelope):
    type: Literal["execution:completed"] = "execution:completed"
    data: ExecutionCompletedData


class ExecutionFailed(Envelope):
    type: Literal["execution:failed"] = "execution:failed"
    data: ExecutionFailedData

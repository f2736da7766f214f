"""`node:*` events: one node of an execution, per attempt."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue

from flowmaestro.events.catalogue.common import ErrorInfo
from flowmaestro.events.model import Envelope, WireModel


class NodeStartedData(WireModel):
    node_id: str
    node_type: str
    attempt: int = Field(ge=1)
    inputs: dict[str, JsonValue]


class NodeCompletedData(WireModel):
    node_id: str
    node_type: str
    outputs: JsonValue
    duration_ms: int = Field(ge=0)


class NodeFailedData(WireModel):
    node_id: str
    node_type: str
    error: ErrorInfo
    attempt: int = Field(ge=1)
    max_attempts: int = Field(ge=0, description="0 means unlimited")
    will_retry: bool
    next_retry_in_ms: int | None = Field(ge=0)


class NodeProgressData(WireModel):
    node_id: str
    progress: float = Field(ge=0, le=100)
    step: str


class NodeStarted(Envelope):
    type: Literal["node:started"] = "node:started"
    data: NodeStartedData


class NodeCompleted(Envelope):
    type: Literal["node:completed"] = "node:completed"
    data: NodeCompletedData


class NodeFailed(Envelope):
    type: Literal["node:failed"] = "node:failed"
    data: NodeFailedData


class NodeProgress(Envelope):
    type: Literal["node:progress"] = "node:progress"
    data: NodeProgressData

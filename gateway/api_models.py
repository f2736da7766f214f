"""The success bodies of the HTTP API, as the OpenAPI document shows them (the TypeScript
SDK's HTTP client is typed from that document: web/packages/client/src/generated/openapi.ts).
The routes return these shapes as plain JSON; the models document them, so a large page is
not validated a second time on its way out."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, JsonValue

from flowmaestro.events.catalogue.common import ErrorInfo
from flowmaestro.events.catalogue.execution import ExecutionStatus
from flowmaestro.events.catalogue.user_input import UserInputReceivedData, UserInputRequiredData
from flowmaestro.events.model import WireModel
from flowmaestro.flows.messages import Visibility


class Started(WireModel):
    execution_id: str


class ExecutionSummary(WireModel):
    execution_id: str
    flow_name: str
    owner_id: str
    visibility: Visibility
    status: ExecutionStatus
    created_at: str
    updated_at: str


class ExecutionList(WireModel):
    executions: list[ExecutionSummary]
    next_cursor: str | None = Field(description="the next page's `cursor`; null on the last page")


class InboxPrompt(UserInputRequiredData):
    """An open prompt of the inbox: the prompt as announced, and whose execution it is."""

    execution_id: str
    flow_name: str
    owner_id: str
    asked_at: str


class InboxPage(WireModel):
    prompts: list[InboxPrompt]
    next_cursor: str | None = Field(description="the next page's `cursor`; null on the last page")


class GraphNode(WireModel):
    id: str
    type: str
    after: list[str]
    branches: dict[str, list[str]] | None = None


class Graph(WireModel):
    nodes: list[GraphNode]


class SnapshotNode(WireModel):
    node_id: str
    node_type: str
    status: str
    attempt: int
    max_attempts: int | None
    duration_ms: int | None
    progress: int | None
    last_error: ErrorInfo | None


class ExecutionSnapshot(ExecutionSummary):
    run_id: str | None
    inputs: dict[str, JsonValue]
    graph: Graph | None
    position: int = Field(description="the state is current as of this position")
    started_at: str | None
    ended_at: str | None
    duration_ms: int | None
    current_node_id: str | None
    progress: int
    completed_nodes: int
    total_nodes: int | None
    nodes: list[SnapshotNode]
    pending_inputs: list[UserInputRequiredData]
    answers: list[UserInputReceivedData] = Field(
        description="who answered each prompt, when and how (docs/teams.md, Audit)"
    )
    outputs: JsonValue
    error: ErrorInfo | None
    failed_node_id: str | None


class EventPage(WireModel):
    events: list[dict[str, Any]] = Field(description="envelopes in position order")
    position: int = Field(description="the last event's position: the next page's `after`")
    recovered: bool = Field(description="false when history after `after` was pruned")


class Answered(WireModel):
    ok: Literal[True]
    input_id: str
    node_id: str


class KnowledgeBaseSummary(WireModel):
    knowledge_base_id: str
    name: str
    document_count: int
    created_at: str


class KnowledgeBaseList(WireModel):
    knowledge_bases: list[KnowledgeBaseSummary]


class KnowledgeBaseCreated(WireModel):
    knowledge_base_id: str


class DocumentAccepted(WireModel):
    document_id: str
    workflow_id: str


def documented(model: type[WireModel], status: int = 200) -> dict[str, Any]:
    """Route arguments documenting `model` as the success body of a route returning JSON."""
    return {"response_model": None, "responses": {status: {"model": model}}}

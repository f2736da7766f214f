"""One valid instance of every event type, for round-trip and routing tests."""

from __future__ import annotations

from datetime import UTC, datetime

from flowmaestro.events import (
    AgentStreamingEnd,
    AgentStreamingStart,
    AgentToken,
    AgentToolCall,
    CatalogueEvent,
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionStarted,
    ExecutionUpdated,
    KbProcessing,
    KbUploadCompleted,
    KbUploadFailed,
    KbUploadStarted,
    NodeCompleted,
    NodeFailed,
    NodeProgress,
    NodeStarted,
    UserInputReceived,
    UserInputRequired,
    UserInputTimeout,
)

AT = datetime(2026, 11, 25, 19, 22, 16, 123000, tzinfo=UTC)


def one_of_each(
    user_id: str = "u1", execution_id: str = "ex_1", kb_id: str = "kb_1"
) -> list[CatalogueEvent]:
    """Every catalogue type once, with non-trivial data (nested JSON, unicode, nulls)."""
    ex = {"user_id": user_id, "execution_id": execution_id, "workflow_id": "approval flow"}
    agent = {**ex, "agent_id": "writer"}
    kb = {"user_id": user_id, "knowledge_base_id": kb_id}
    err = {"message": "boom: ünïcode ✓", "type": "HttpError"}
    return [
        ExecutionStarted(
            **ex,
            data={
                "workflow_id": "approval flow",
                "status": "running",
                "started_at": AT,
                "inputs": {"n": 3, "tags": ["a", None]},
            },
        ),
        ExecutionUpdated(
            **ex,
            data={
                "status": "running",
                "current_node_id": "fetch",
                "progress": 42.5,
                "completed_nodes": 2,
                "total_nodes": 5,
            },
        ),
        ExecutionCompleted(
            **ex, data={"outputs": {"result": {"deep": [1, 2.5, "x"]}}, "duration_ms": 1234}
        ),
        ExecutionFailed(**ex, data={"error": err, "failed_node_id": "fetch"}),
        NodeStarted(
            **ex,
            data={
                "node_id": "fetch",
                "node_type": "http",
                "attempt": 1,
                "inputs": {"url": "http://x"},
            },
        ),
        NodeCompleted(
            **ex,
            data={
                "node_id": "fetch",
                "node_type": "http",
                "outputs": {"status": 200},
                "duration_ms": 15,
            },
        ),
        NodeFailed(
            **ex,
            data={
                "node_id": "fetch",
                "node_type": "http",
                "error": err,
                "attempt": 1,
                "max_attempts": 3,
                "will_retry": True,
                "next_retry_in_ms": 1000,
            },
        ),
        NodeProgress(**ex, data={"node_id": "wait", "progress": 50, "step": "waiting"}),
        UserInputRequired(
            **ex,
            data={
                "input_id": "in_1",
                "node_id": "approve",
                "prompt": "Approve?",
                "input_type": "choice",
                "schema": {"enum": ["yes", "no"]},
                "choices": ["yes", "no"],
                "timeout_seconds": 60,
                "expires_at": AT,
            },
        ),
        UserInputReceived(**ex, data={"input_id": "in_1", "node_id": "approve"}),
        UserInputTimeout(
            **ex,
            data={
                "input_id": "in_1",
                "node_id": "approve",
                "timeout_seconds": 60,
                "on_timeout": "default",
            },
        ),
        KbUploadStarted(
            **kb,
            data={
                "knowledge_base_id": kb_id,
                "document_id": "doc_1",
                "file_name": "a.pdf",
                "file_size": 2048,
            },
        ),
        KbProcessing(**kb, data={"document_id": "doc_1", "step": "chunking", "progress": 30}),
        KbUploadCompleted(
            **kb,
            data={
                "document_id": "doc_1",
                "chunk_count": 4,
                "embedding_count": 4,
                "duration_ms": 90,
            },
        ),
        KbUploadFailed(**kb, data={"document_id": "doc_1", "step": "extraction", "error": err}),
        AgentStreamingStart(
            **agent, data={"agent_id": "writer", "node_id": "draft", "model": "offline"}
        ),
        AgentToken(**agent, data={"token": "Hel", "index": 0, "offset": 0}),
        AgentToolCall(
            **agent,
            data={
                "tool_call_id": "call_1",
                "tool_name": "calculator",
                "arguments": {"expression": "2+2"},
                "status": "completed",
                "result": 4,
            },
        ),
        AgentStreamingEnd(
            **agent, data={"response": "Hello", "token_count": 2, "finish_reason": "stop"}
        ),
    ]

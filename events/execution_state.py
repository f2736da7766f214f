"""An execution's durable state: what each event changes in it, as a JSON merge patch.

The outbox writer folds each new event's patch into `executions.state` in the statement that
writes the event (migration 0014, `execution_fold`), so the state, the status and the events
commit together and the state outlives pruned events and the Temporal history.

RFC 7386 merges objects member by member and deletes a member patched with null. A value
that must be kept exactly as it is (outputs, errors, a prompt: all may hold nulls, which a
merge would drop) is stored as a one-element array, which a merge replaces whole; `read_state`
unwraps them. Every patch sets values, none reads the state, so the fold needs no round trip.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowmaestro.events.catalogue import (
    ExecutionCompleted,
    ExecutionFailed,
    ExecutionStarted,
    ExecutionUpdated,
    NodeCompleted,
    NodeFailed,
    NodeProgress,
    NodeStarted,
    UserInputReceived,
    UserInputRequired,
    UserInputTimeout,
)

if TYPE_CHECKING:
    from flowmaestro.events.catalogue import Event

Patch = dict[str, Any]


def _verbatim(value: Any) -> list[Any]:
    return [value]


def _node(node_id: str, **fields: Any) -> Patch:
    return {"nodes": {node_id: {"nodeId": node_id, **fields}}}


def state_patch(event: Event) -> Patch | None:
    """What `event` changes in its execution's state; None when it changes nothing there."""
    at = event.timestamp.isoformat()
    match event:
        case ExecutionStarted(data=d):
            return {"status": d.status, "startedAt": d.started_at.isoformat()}
        case ExecutionUpdated(data=d):
            return {
                "status": d.status,
                "currentNodeId": d.current_node_id,
                "progress": d.progress,
                "completedNodes": d.completed_nodes,
                "totalNodes": d.total_nodes,
            }
        case ExecutionCompleted(data=d):
            return {
                "status": "completed",
                "outputs": _verbatim(d.outputs),
                "durationMs": d.duration_ms,
                "endedAt": at,
                "pendingInputs": None,
            }
        case ExecutionFailed(data=d):
            # The workflow reports a cancellation as a failure of type `cancelled`.
            status = "cancelled" if d.error.type == "cancelled" else "failed"
            return {
                "status": status,
                "error": _verbatim(d.error.model_dump(mode="json")),
                "failedNodeId": d.failed_node_id,
                "endedAt": at,
                # A cancel may end the execution while a prompt waits: nobody can answer it.
                "pendingInputs": None,
            }
        case NodeStarted(data=d):
            first = {"firstStartedAt": at} if d.attempt == 1 else {}
            return _node(
                d.node_id,
                nodeType=d.node_type,
                status="running",
                attempt=d.attempt,
                durationMs=None,
                progress=None,
                **first,
            )
        case NodeCompleted(data=d):
            return _node(
                d.node_id,
                nodeType=d.node_type,
                status="completed",
                durationMs=d.duration_ms,
                progress=100,
            )
        case NodeFailed(data=d):
            return _node(
                d.node_id,
                nodeType=d.node_type,
                status="retrying" if d.will_retry else "failed",
                attempt=d.attempt,
                maxAttempts=d.max_attempts,
                lastError=_verbatim(d.error.model_dump(mode="json")),
            )
        case NodeProgress(data=d):
            return _node(d.node_id, progress=d.progress)
        case UserInputRequired(data=d):
            # With when it was asked: stored members have no order of their own.
            return {"pendingInputs": {d.input_id: [d.model_dump(mode="json"), at]}}
        case UserInputReceived(data=d) if d.answered_at is not None:
            # The audit of the answer (docs/teams.md), kept whole.
            return {
                "pendingInputs": {d.input_id: None},
                "answers": {d.input_id: [d.model_dump(mode="json")]},
            }
        case UserInputReceived(data=d) | UserInputTimeout(data=d):
            return {"pendingInputs": {d.input_id: None}}
    return None


def compose(first: Patch, then: Patch) -> Patch | None:
    """One patch with the effect of `first` then `then`; None when no single merge patch has
    it (`then` merges into a member `first` deleted or made a non-object)."""
    out = dict(first)
    for key, value in then.items():
        if isinstance(value, dict) and key in first:
            before = first[key]
            if not isinstance(before, dict):
                return None
            nested = compose(before, value)
            if nested is None:
                return None
            out[key] = nested
        else:
            out[key] = value
    return out


def composed(patches: list[tuple[str, Patch]]) -> list[tuple[str, Patch]]:
    """(execution, patch) pairs in order, consecutive patches of an execution composed where
    one patch can do what they do; applying the result equals applying every patch."""
    last: dict[str, int] = {}
    out: list[tuple[str, Patch]] = []
    for execution_id, patch in patches:
        index = last.get(execution_id)
        merged = compose(out[index][1], patch) if index is not None else None
        if index is not None and merged is not None:
            out[index] = (execution_id, merged)
        else:
            last[execution_id] = len(out)
            out.append((execution_id, patch))
    return out


def read_state(state: dict[str, Any]) -> dict[str, Any]:
    """The stored document as the snapshot shows it (the status is the row's own column):
    every field present, values unwrapped,
    nodes in the order they first started, prompts in the order they were asked."""
    nodes = sorted(
        state.get("nodes", {}).values(),
        key=lambda n: (n.get("firstStartedAt") is None, n.get("firstStartedAt") or "", n["nodeId"]),
    )
    return {
        "startedAt": state.get("startedAt"),
        "endedAt": state.get("endedAt"),
        "durationMs": state.get("durationMs"),
        "currentNodeId": state.get("currentNodeId"),
        "progress": state.get("progress", 0),
        "completedNodes": state.get("completedNodes", 0),
        "totalNodes": state.get("totalNodes"),
        "nodes": [_read_node(n) for n in nodes],
        "pendingInputs": [
            p[0] for p in sorted(state.get("pendingInputs", {}).values(), key=lambda p: p[1])
        ],
        "answers": sorted(
            (a[0] for a in state.get("answers", {}).values()), key=lambda a: a["answeredAt"]
        ),
        "outputs": _unwrap(state.get("outputs")),
        "error": _unwrap(state.get("error")),
        "failedNodeId": state.get("failedNodeId"),
    }


def _read_node(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodeId": node["nodeId"],
        "nodeType": node.get("nodeType", ""),
        "status": node.get("status", "pending"),
        "attempt": node.get("attempt", 1),
        "maxAttempts": node.get("maxAttempts"),
        "durationMs": node.get("durationMs"),
        "progress": node.get("progress"),
        "lastError": _unwrap(node.get("lastError")),
    }


def _unwrap(stored: list[Any] | None) -> Any:
    return stored[0] if stored else None

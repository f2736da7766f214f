"""An execution's state as of a position, folded from its events (GET /api/executions/{id})."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from events.channels import execution_channel

if TYPE_CHECKING:
    import asyncpg

    from events.outbox import OutboxReader, StoredEvent


def fold(events: list[StoredEvent]) -> dict[str, Any]:
    """Nodes, pending inputs, outputs and error after `events` (in position order)."""
    nodes: dict[str, dict[str, Any]] = {}
    pending: dict[str, dict[str, Any]] = {}
    outputs: Any = None
    error: Any = None
    for stored in events:
        data = stored.envelope["data"]
        node_id = data.get("nodeId")
        if stored.type.startswith("node:") and node_id is not None:
            node = nodes.setdefault(
                node_id,
                {
                    "nodeId": node_id,
                    "nodeType": data.get("nodeType", ""),
                    "status": "pending",
                    "attempt": 1,
                    "durationMs": None,
                    "progress": None,
                },
            )
            if stored.type == "node:started":
                node.update(status="running", attempt=data["attempt"])
            elif stored.type == "node:completed":
                node.update(status="completed", durationMs=data["durationMs"], progress=100)
            elif stored.type == "node:failed":
                node.update(
                    status="retrying" if data["willRetry"] else "failed", attempt=data["attempt"]
                )
            elif stored.type == "node:progress":
                node["progress"] = data["progress"]
        elif stored.type == "user_input:required":
            pending[data["inputId"]] = data
        elif stored.type in ("user_input:received", "user_input:timeout"):
            pending.pop(data["inputId"], None)
        elif stored.type == "execution:completed":
            outputs = data["outputs"]
        elif stored.type == "execution:failed":
            error = data["error"]
    return {
        "nodes": list(nodes.values()),
        "pendingInputs": list(pending.values()),
        "outputs": outputs,
        "error": error,
    }


async def execution_snapshot(
    reader: OutboxReader, row: asyncpg.Record, page: int = 1000
) -> dict[str, Any]:
    """`row` is the execution's row; `position` is the last event folded in: resuming with
    `after=position` continues exactly where the snapshot ends."""
    channel = execution_channel(row["id"])
    events: list[StoredEvent] = []
    while True:
        batch = await reader.read_after(events[-1].position if events else 0, channel, page)
        events.extend(batch)
        if len(batch) < page:
            break
    return {
        **summary(row),
        "inputs": json.loads(row["inputs"]),
        "graph": json.loads(row["graph"]) if row["graph"] is not None else None,
        "position": events[-1].position if events else 0,
        **fold(events),
    }


def summary(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "executionId": row["id"],
        "flowName": row["workflow_id"],
        "status": row["status"],
        "createdAt": row["created_at"].isoformat(),
        "updatedAt": row["updated_at"].isoformat(),
    }

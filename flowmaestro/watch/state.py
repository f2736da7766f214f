"""What the terminal view shows, folded from an execution's events in position order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flowmaestro.wording import plural

CUSTOM_KEPT = 5
"""Custom events the view keeps: the latest ones."""


@dataclass(slots=True)
class NodeRow:
    node_id: str
    node_type: str = ""
    status: str = "pending"
    attempt: int = 0
    started_at: datetime | None = None
    duration_ms: int | None = None
    progress: float | None = None
    step: str = ""
    error: str = ""


@dataclass(slots=True)
class AgentText:
    model: str = ""
    text: str = ""
    tool_calls: list[str] = field(default_factory=list)
    done: bool = False


@dataclass(slots=True)
class ExecutionState:
    execution_id: str
    flow: str = ""
    status: str = "waiting for events"
    progress: float = 0
    nodes: dict[str, NodeRow] = field(default_factory=dict)
    agents: dict[str, AgentText] = field(default_factory=dict)
    documents: dict[str, str] = field(default_factory=dict)
    prompts: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Open prompts by input id (`user_input:required` data)."""
    outputs: Any = None
    error: str = ""
    custom: list[str] = field(default_factory=list)
    """The latest custom `app:<name>` events, as `name data` lines (at most `CUSTOM_KEPT`)."""

    def apply(self, envelope: dict[str, Any]) -> None:
        kind: str = envelope["type"]
        data: dict[str, Any] = envelope.get("data") or {}
        at = datetime.fromisoformat(envelope["timestamp"].replace("Z", "+00:00"))
        if kind == "execution:started":
            self.flow = data.get("workflowId", "")
            self.status = data.get("status", "running")
        elif kind == "execution:updated":
            self.status = data["status"]
            self.progress = data["progress"]
        elif kind == "execution:completed":
            self.status, self.progress, self.outputs = "completed", 100, data["outputs"]
        elif kind == "execution:failed":
            self.status = "failed"
            self.error = data["error"]["message"]
        elif kind.startswith("node:"):
            self._node(kind, data, at)
        elif kind.startswith("agent:"):
            self._agent(kind, data, envelope.get("agentId") or data.get("agentId") or "agent")
        elif kind.startswith("kb:"):
            self._document(kind, data)
        elif kind == "user_input:required":
            self.prompts[data["inputId"]] = data
            self.node(data["nodeId"]).status = "waiting for input"
        elif kind in ("user_input:received", "user_input:timeout"):
            self.prompts.pop(data["inputId"], None)
        elif kind.startswith("app:"):
            self.custom = [*self.custom, f"{kind.removeprefix('app:')} {_compact(data)}"][
                -CUSTOM_KEPT:
            ]

    def node(self, node_id: str) -> NodeRow:
        return self.nodes.setdefault(node_id, NodeRow(node_id))

    def _node(self, kind: str, data: dict[str, Any], at: datetime) -> None:
        row = self.node(data["nodeId"])
        row.node_type = data.get("nodeType", row.node_type)
        if kind == "node:started":
            row.status, row.attempt, row.started_at = "running", data["attempt"], at
            row.duration_ms, row.error = None, ""
        elif kind == "node:progress":
            row.progress, row.step = data["progress"], data["step"]
        elif kind == "node:completed":
            row.status, row.duration_ms, row.progress = "completed", data["durationMs"], 100
        elif kind == "node:failed":
            row.status = "retrying" if data["willRetry"] else "failed"
            row.error = data["error"]["message"]

    def _agent(self, kind: str, data: dict[str, Any], agent_id: str) -> None:
        agent = self.agents.setdefault(agent_id, AgentText())
        if kind == "agent:streaming_start":
            agent.model, agent.text, agent.done = data["model"], "", False
        elif kind == "agent:token":
            # The offset says where the chunk goes; a retried attempt starts again at 0.
            agent.text = agent.text[: data["offset"]] + data["token"]
        elif kind == "agent:tool_call":
            if data["status"] != "started":
                agent.tool_calls.append(
                    f"{data['toolName']}({_compact(data['arguments'])}) -> "
                    f"{_compact(data['result']) if data['status'] == 'completed' else 'failed'}"
                )
        elif kind == "agent:streaming_end":
            agent.text, agent.done = data["response"], True

    def _document(self, kind: str, data: dict[str, Any]) -> None:
        document = data["documentId"]
        if kind == "kb:upload_started":
            self.documents[document] = f"{data['fileName']}: uploaded"
        elif kind == "kb:processing":
            name = self.documents.get(document, document).split(":")[0]
            self.documents[document] = f"{name}: {data['step']} {data['progress']:.0f}%"
        elif kind == "kb:upload_completed":
            name = self.documents.get(document, document).split(":")[0]
            self.documents[document] = (
                f"{name}: {plural(data['chunkCount'], 'chunk')}, "
                f"{plural(data['embeddingCount'], 'embedding')}"
            )
        elif kind == "kb:upload_failed":
            name = self.documents.get(document, document).split(":")[0]
            self.documents[document] = f"{name}: failed in {data['step']}"


def _compact(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"

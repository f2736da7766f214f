"""The `agent` node's config, as a flow file states it."""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from flowmaestro.flows.nodes.base import NodeConfig, NodeType


class ScriptedCall(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tool: str
    arguments: dict[str, JsonValue] = Field(default_factory=dict)


class ScriptStep(BaseModel):
    """One scripted turn of the offline model."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    say: str = ""
    call: list[ScriptedCall] = Field(default_factory=list)


ToolName = Literal["calculator", "http_get", "kb_search"]


class AgentConfig(NodeConfig):
    prompt: str = Field(min_length=1)
    system: str | None = None
    agent_id: str | None = Field(default=None, min_length=1, max_length=200)
    model: str | None = None
    """`offline`, a model of the configured endpoint, or None for FLOWMAESTRO_MODEL."""
    tools: list[ToolName] = Field(default_factory=list)
    knowledge_base_id: str | None = None
    """The knowledge base `kb_search` searches (the execution's user must own it)."""
    max_steps: int = Field(default=8, ge=1, le=50)
    script: list[ScriptStep] = Field(default_factory=list)
    """The offline model's turns (see activities/agent/offline.py)."""
    offline_chunk_chars: int = Field(default=4, ge=1)
    offline_chunks_per_second: float = Field(default=0, ge=0)
    flush_ms: float = Field(default=50, ge=0)
    flush_chars: int = Field(default=2048, ge=1)
    coalesce: bool = True
    http_max_bytes: int = Field(default=64 * 1024, gt=0, le=8 << 20)
    http_allowed_hosts: list[str] | None = None
    """Host names (or `*.suffix`) `http_get` may reach; None: any the operator's egress
    policy allows. It can only narrow that policy (private addresses stay closed)."""

    @model_validator(mode="after")
    def _kb_for_search(self) -> Self:
        if "kb_search" in self.tools and not self.knowledge_base_id:
            raise ValueError("the kb_search tool needs knowledge_base_id")
        return self


class Agent(NodeType[AgentConfig]):
    type_name: ClassVar[str] = "agent"
    config_model = AgentConfig

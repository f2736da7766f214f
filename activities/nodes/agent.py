"""`agent`: an LLM with tools, streamed live as `agent:*` events.

The events carry `agentId` (config `agent_id`, default the node id), so they reach the
`agent:{agentId}:{executionId}` channel as well as the execution's and the user's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal, Self

from pydantic import Field, JsonValue, model_validator

from flowmaestro.activities.agent.messages import Message
from flowmaestro.activities.agent.offline import ScriptStep
from flowmaestro.activities.agent.runner import AgentRunner, Coalescing
from flowmaestro.activities.agent.services import AgentServices, OfflinePace
from flowmaestro.activities.agent.stream_events import AgentEvents
from flowmaestro.activities.agent.tools.calculator import Calculator
from flowmaestro.activities.agent.tools.http_get import HttpGet
from flowmaestro.activities.agent.tools.kb_search import KbSearch
from flowmaestro.activities.errors import NodeError
from flowmaestro.activities.nodes.base import NodeConfig, NodeContext, NodeExecutor, NodeResult

if TYPE_CHECKING:
    from flowmaestro.activities.agent.tools.base import Tool

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


class AgentExecutor(NodeExecutor[AgentConfig]):
    type_name: ClassVar[str] = "agent"
    config_model = AgentConfig

    async def execute(self, config: AgentConfig, ctx: NodeContext) -> NodeResult:
        services = ctx.services.agents or AgentServices.offline(ctx.services.http)
        agent_id = config.agent_id or ctx.node_id
        provider = services.models.provider(
            config.model,
            script=config.script,
            pace=OfflinePace(config.offline_chunk_chars, config.offline_chunks_per_second),
        )
        events = AgentEvents(
            lambda key, data: ctx.event(key, data, agent_id=agent_id),
            ctx.emitter,
            agent_id=agent_id,
            node_id=ctx.node_id,
            attempt=ctx.attempt,
        )
        runner = AgentRunner(
            provider,
            _tools(config, ctx, services),
            events,
            max_steps=config.max_steps,
            tool_timeout=ctx.services.limits.tool_timeout_seconds,
            coalescing=Coalescing(config.flush_ms / 1000, config.flush_chars, config.coalesce),
        )
        messages = [Message("system", config.system)] if config.system else []
        messages.append(Message("user", config.prompt))
        result = await runner.run(messages)
        output: dict[str, JsonValue] = {
            "response": result.response,
            "finishReason": result.finish_reason,
            "tokenCount": result.token_count,
            "model": provider.model,
            "toolCalls": list(result.tool_calls),
        }
        return NodeResult(output)


def _tools(config: AgentConfig, ctx: NodeContext, services: AgentServices) -> dict[str, Tool]:
    tools: dict[str, Tool] = {}
    for name in config.tools:
        if name == "calculator":
            tools[name] = Calculator()
        elif name == "http_get":
            tools[name] = HttpGet(
                ctx.services.egress,
                max_bytes=config.http_max_bytes,
                timeout_seconds=ctx.services.limits.tool_timeout_seconds,
                allowed_hosts=config.http_allowed_hosts,
            )
        else:
            if ctx.services.pool is None or config.knowledge_base_id is None:
                raise NodeError(
                    "kb_search needs the database", type="kb_unavailable", retryable=False
                )
            tools[name] = KbSearch(
                ctx.services.pool,
                services.embedders,
                kb_id=config.knowledge_base_id,
                user_id=ctx.execution.user_id,
            )
    return tools

"""`agent`: an LLM with tools, streamed live as `agent:*` events.

The events carry `agentId` (config `agent_id`, default the node id), so they reach the
`agent:{agentId}:{executionId}` channel as well as the execution's and the user's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import JsonValue

from flowmaestro.activities.agent.messages import Message
from flowmaestro.activities.agent.runner import AgentRunner, Coalescing
from flowmaestro.activities.agent.services import AgentServices, OfflinePace
from flowmaestro.activities.agent.stream_events import AgentEvents
from flowmaestro.activities.agent.tools.calculator import Calculator
from flowmaestro.activities.agent.tools.http_get import HttpGet
from flowmaestro.activities.agent.tools.kb_search import KbSearch
from flowmaestro.activities.errors import NodeError
from flowmaestro.activities.nodes.base import NodeContext, NodeExecutor, NodeResult
from flowmaestro.flows.nodes.agent import Agent, AgentConfig

if TYPE_CHECKING:
    from flowmaestro.activities.agent.tools.base import Tool


class AgentExecutor(Agent, NodeExecutor[AgentConfig]):
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

"""The tool-calling loop: the model streams, asks for tools, gets their results, goes on.

Text from every turn is one response: it streams through the coalescer as `agent:token`
events, and buffered text is written before a tool call's events so the order clients see
is the order things happened.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import JsonValue

from flowmaestro.activities.agent.coalescer import TokenCoalescer
from flowmaestro.activities.agent.errors import ModelError, ToolError
from flowmaestro.activities.agent.messages import Message, TextDelta, TurnEnd

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flowmaestro.activities.agent.messages import ToolCall
    from flowmaestro.activities.agent.provider import ModelProvider
    from flowmaestro.activities.agent.stream_events import AgentEvents
    from flowmaestro.activities.agent.tools.base import Tool

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Coalescing:
    flush_interval: float = 0.05
    max_chars: int = 2048
    enabled: bool = True


@dataclass(slots=True)
class AgentResult:
    response: str
    finish_reason: str
    token_count: int
    tool_calls: list[dict[str, JsonValue]] = field(default_factory=list)


class AgentRunner:
    def __init__(
        self,
        provider: ModelProvider,
        tools: Mapping[str, Tool],
        events: AgentEvents,
        *,
        max_steps: int = 8,
        tool_timeout: float = 10,
        coalescing: Coalescing = Coalescing(),
    ) -> None:
        self._provider = provider
        self._tools = tools
        self._events = events
        self._max_steps = max_steps
        self._tool_timeout = tool_timeout
        self._coalescing = coalescing

    async def run(self, messages: list[Message]) -> AgentResult:
        """Run up to `max_steps` model turns over `messages` (which grows with the turns)."""
        await self._events.started(self._provider.model)
        specs = [t.spec for t in self._tools.values()]
        text: list[str] = []
        result = AgentResult(response="", finish_reason="max_steps", token_count=0)
        async with TokenCoalescer(
            self._events.tokens,
            flush_interval=self._coalescing.flush_interval,
            max_chars=self._coalescing.max_chars,
            coalesce=self._coalescing.enabled,
        ) as coalescer:
            for _ in range(self._max_steps):
                turn_text: list[str] = []
                end: TurnEnd | None = None
                async for item in self._provider.stream(messages, specs):
                    if isinstance(item, TextDelta):
                        coalescer.push(item.text)
                        turn_text.append(item.text)
                        result.token_count += 1
                    else:
                        end = item
                if end is None:
                    raise ModelError("the model's turn ended without a finish", retryable=True)
                text.extend(turn_text)
                messages.append(Message("assistant", "".join(turn_text), end.tool_calls))
                if not end.tool_calls:
                    result.finish_reason = end.finish_reason
                    break
                await coalescer.flush()
                for call in end.tool_calls:
                    content = await self._call(call, len(result.tool_calls), result)
                    messages.append(Message("tool", content, tool_call_id=call.id))
        result.response = "".join(text)
        await self._events.ended(result.response, result.token_count, result.finish_reason)
        return result

    async def _call(self, call: ToolCall, number: int, result: AgentResult) -> str:
        """Run one tool call with its events; what the model is told about it."""
        arguments, problem = _arguments(call.arguments)
        await self._events.tool_call(number, call, arguments, done=False)
        value: JsonValue = None
        error: dict[str, JsonValue] | None = None
        tool = self._tools.get(call.name)
        if problem is not None:
            error = {"message": problem, "type": "invalid_arguments"}
        elif tool is None:
            error = {"message": f"no tool named {call.name!r}", "type": "unknown_tool"}
        else:
            value, error = await self._run_tool(tool, call.name, arguments)
        await self._events.tool_call(number, call, arguments, result=value, error=error, done=True)
        result.tool_calls.append(
            {
                "id": call.id,
                "name": call.name,
                "arguments": arguments,
                "result": value,
                "error": error,
            }
        )
        if error is not None:
            return f"error: {error['message']}"
        return value if isinstance(value, str) else json.dumps(value)

    async def _run_tool(
        self, tool: Tool, name: str, arguments: dict[str, JsonValue]
    ) -> tuple[JsonValue, dict[str, JsonValue] | None]:
        """The tool's value, or the error the model is told: whatever a tool raises fails
        the call, never the node (only cancellation goes through)."""
        try:
            async with asyncio.timeout(self._tool_timeout):
                value = await tool.call(arguments)
            # The value goes into events and the model's messages: it must be plain JSON.
            json.dumps(value, allow_nan=False)
            return value, None
        except ToolError as exc:
            return None, {"message": exc.message, "type": exc.type}
        except TimeoutError:
            message = f"{name} did not answer within {self._tool_timeout:g}s"
            return None, {"message": message, "type": "tool_timeout"}
        except Exception as exc:
            log.warning("tool %s failed: %s", name, type(exc).__name__)
            message = f"{name} failed ({type(exc).__name__})"
            return None, {"message": message, "type": "tool_failed"}


def _arguments(raw: str) -> tuple[dict[str, JsonValue], str | None]:
    try:
        parsed = json.loads(raw or "{}")
    except ValueError as exc:
        return {"raw": raw}, f"arguments are not JSON: {exc}"
    if not isinstance(parsed, dict):
        return {"raw": raw}, "arguments must be a JSON object"
    return parsed, None

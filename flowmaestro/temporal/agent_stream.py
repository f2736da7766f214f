"""`agent_stream()`: an activity streams an agent's answer as `agent:*` events.

The events, ids and coalescing are the built-in agent node's (activities/agent/): tokens are
buffered and written a few per second, each with its offset, and every id carries the
attempt, so a retried attempt streams anew (`attempt` tells clients it replaces the last).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Literal

from flowmaestro.activities.agent.coalescer import TokenCoalescer
from flowmaestro.activities.agent.messages import ToolCall
from flowmaestro.activities.agent.stream_events import AgentEvents
from flowmaestro.temporal.scope import current_attempt
from flowmaestro.temporal.values import jsonable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from pydantic import JsonValue

    from flowmaestro.temporal.scope import AttemptScope

ToolCallStatus = Literal["started", "completed", "failed"]


class AgentStream:
    """What `agent_stream()` yields. Outside a tracked run's activity every call is a no-op
    that still collects the response."""

    def __init__(
        self,
        scope: AttemptScope | None,
        events: AgentEvents | None,
        coalescer: TokenCoalescer | None,
    ) -> None:
        self._scope = scope
        self._events = events
        self._coalescer = coalescer
        self._text: list[str] = []
        self.token_count = 0
        self._calls = 0
        self._open: dict[str, tuple[int, str, dict[str, Any]]] = {}

    @property
    def response(self) -> str:
        """The text streamed so far."""
        return "".join(self._text)

    async def token(self, text: str) -> None:
        """Stream a piece of the answer (buffered; written within the flush interval)."""
        if not text:
            return
        self._text.append(text)
        self.token_count += 1
        if self._coalescer is not None:
            self._coalescer.push(text)

    async def tool_call(
        self,
        name: str,
        arguments: dict[str, Any],
        *,
        status: ToolCallStatus = "started",
        result: Any = None,
        error: str | None = None,
        call_id: str | None = None,
    ) -> str:
        """Report a tool call: `started`, then `completed` (with `result`) or `failed` (with
        `error`). A completion without `call_id` ends the last started call of `name` (with
        its arguments, when given none). Returns the call's id."""
        if status == "started":
            number = self._calls
            self._calls += 1
            call_id = call_id or f"call_{number}"
            self._open[name] = (number, call_id, arguments)
        else:
            fresh = (self._calls, call_id or f"call_{self._calls}", arguments)
            number, known, started = self._open.pop(name, fresh)
            call_id = call_id or known
            arguments = arguments or started
            if number == self._calls:
                self._calls += 1
        if self._events is None or self._coalescer is None or self._scope is None:
            return call_id
        limit = self._scope.limits.max_event_data_bytes
        args = jsonable(arguments, limit)
        # Text before the call is written before it, so clients show them in order.
        await self._coalescer.flush()
        await self._events.tool_call(
            number,
            ToolCall(call_id, name, ""),
            args if isinstance(args, dict) else {"value": args},
            result=jsonable(result, limit) if status == "completed" else None,
            error=_error(error) if status == "failed" else None,
            done=status != "started",
        )
        return call_id


def _error(message: str | None) -> dict[str, JsonValue]:
    return {"message": (message or "the tool call failed")[:2000], "type": "tool_error"}


@contextlib.asynccontextmanager
async def agent_stream(
    agent_id: str,
    *,
    model: str = "custom",
    flush_interval: float = 0.05,
    max_chars: int = 2048,
) -> AsyncIterator[AgentStream]:
    """`agent:streaming_start`, then the block's tokens and tool calls, then
    `agent:streaming_end` with the full response (finish reason `stop`, or `error` when
    the block raised)."""
    scope = current_attempt()
    if scope is None:
        yield AgentStream(None, None, None)
        return
    events = AgentEvents(
        lambda key, data: scope.event(key, data, agent_id=agent_id),
        scope.emitter,
        agent_id=agent_id,
        node_id=scope.node_id,
        attempt=scope.attempt,
    )
    await events.started(model)
    finish = "error"
    stream: AgentStream | None = None
    try:
        async with TokenCoalescer(
            events.tokens, flush_interval=flush_interval, max_chars=max_chars
        ) as coalescer:
            stream = AgentStream(scope, events, coalescer)
            yield stream
            finish = "stop"
    finally:
        # Also after an error: clients close the stream with what it got.
        if stream is not None:
            await events.ended(stream.response, stream.token_count, finish)

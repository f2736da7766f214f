"""The `agent:*` events of one attempt of one agent.

Every id is derived from (execution, node, agent, attempt, what, index): a retried activity
is a new attempt whose stream has ids of its own (clients tell them apart by `attempt`), and
re-writing any event of the same attempt is a no-op.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import JsonValue

    from flowmaestro.activities.agent.coalescer import Token
    from flowmaestro.activities.agent.messages import ToolCall
    from flowmaestro.events import Event
    from flowmaestro.events.outbox import Emitter

    EventFactory = Callable[[str, tuple[str | int, ...], dict[str, Any]], Event]


class AgentEvents:
    def __init__(
        self, make: EventFactory, emitter: Emitter, *, agent_id: str, node_id: str, attempt: int
    ) -> None:
        self._make = make
        self._emitter = emitter
        self._agent_id = agent_id
        self._node_id = node_id
        self._attempt = attempt

    def _event(self, type: str, key: tuple[str | int, ...], data: dict[str, Any]) -> Event:
        return self._make(type, (self._agent_id, self._attempt, *key), data)

    async def started(self, model: str) -> None:
        data = {"agentId": self._agent_id, "nodeId": self._node_id, "model": model}
        await self._emitter.emit(
            [self._event("agent:streaming_start", (), {**data, "attempt": self._attempt})]
        )

    async def tokens(self, tokens: list[Token]) -> None:
        """All of `tokens` in one write."""
        await self._emitter.emit(
            [
                self._event(
                    "agent:token",
                    (t.index,),
                    {
                        "token": t.text,
                        "index": t.index,
                        "offset": t.offset,
                        "attempt": self._attempt,
                    },
                )
                for t in tokens
            ]
        )

    async def tool_call(
        self,
        number: int,
        call: ToolCall,
        arguments: dict[str, JsonValue],
        *,
        result: JsonValue = None,
        error: dict[str, JsonValue] | None = None,
        done: bool,
    ) -> None:
        """`started` (done False), then `completed` or, with `error`, `failed`."""
        status = "started" if not done else "failed" if error is not None else "completed"
        await self._emitter.emit(
            [
                self._event(
                    "agent:tool_call",
                    (number, status),
                    {
                        "toolCallId": call.id,
                        "toolName": call.name,
                        "arguments": arguments,
                        "status": status,
                        "result": result,
                        "error": error,
                    },
                )
            ]
        )

    async def ended(self, response: str, token_count: int, finish_reason: str) -> None:
        await self._emitter.emit(
            [
                self._event(
                    "agent:streaming_end",
                    (),
                    {
                        "response": response,
                        "tokenCount": token_count,
                        "finishReason": finish_reason,
                        "attempt": self._attempt,
                    },
                )
            ]
        )

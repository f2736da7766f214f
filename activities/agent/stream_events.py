"""The `agent:*` events of one attempt of one agent.

Every id is derived from (execution, node, agent, attempt, what, index): a retried activity
is a new attempt whose stream has ids of its own (clients tell them apart by `attempt`), and
re-writing any event of the same attempt is a no-op.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowmaestro.events.catalogue.agent import (
    AgentStreamingEndData,
    AgentStreamingStartData,
    AgentTokenData,
    AgentToolCallData,
    ToolCallStatus,
)
from flowmaestro.events.catalogue.common import ErrorInfo

if TYPE_CHECKING:
    from collections.abc import Callable

    from pydantic import JsonValue

    from flowmaestro.activities.agent.coalescer import Token
    from flowmaestro.activities.agent.messages import ToolCall
    from flowmaestro.events import Event, EventData
    from flowmaestro.events.outbox import Emitter

    EventFactory = Callable[[tuple[str | int, ...], EventData], Event]


class AgentEvents:
    def __init__(
        self, make: EventFactory, emitter: Emitter, *, agent_id: str, node_id: str, attempt: int
    ) -> None:
        self._make = make
        self._emitter = emitter
        self._agent_id = agent_id
        self._node_id = node_id
        self._attempt = attempt

    def _event(self, key: tuple[str | int, ...], data: EventData) -> Event:
        return self._make((self._agent_id, self._attempt, *key), data)

    async def started(self, model: str) -> None:
        data = AgentStreamingStartData(
            agent_id=self._agent_id, node_id=self._node_id, model=model, attempt=self._attempt
        )
        await self._emitter.emit([self._event((), data)])

    async def tokens(self, tokens: list[Token]) -> None:
        """All of `tokens` in one write."""
        await self._emitter.emit(
            [
                self._event(
                    (t.index,),
                    AgentTokenData(
                        token=t.text, index=t.index, offset=t.offset, attempt=self._attempt
                    ),
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
        status: ToolCallStatus = (
            "started" if not done else "failed" if error is not None else "completed"
        )
        data = AgentToolCallData(
            tool_call_id=call.id,
            tool_name=call.name,
            arguments=arguments,
            status=status,
            result=result,
            error=None if error is None else ErrorInfo.model_validate(error),
        )
        await self._emitter.emit([self._event((number, status), data)])

    async def ended(self, response: str, token_count: int, finish_reason: str) -> None:
        data = AgentStreamingEndData(
            response=response,
            token_count=token_count,
            finish_reason=finish_reason,
            attempt=self._attempt,
        )
        await self._emitter.emit([self._event((), data)])

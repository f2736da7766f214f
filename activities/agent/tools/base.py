"""The interface of a tool the agent loop can call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pydantic import JsonValue

    from flowmaestro.activities.agent.messages import ToolSpec


class Tool(Protocol):
    @property
    def spec(self) -> ToolSpec:
        """Name, description and argument schema, as the model is told."""
        ...

    async def call(self, arguments: dict[str, JsonValue]) -> JsonValue:
        """Run once. Raise `ToolError` for a failure the model should be told about."""
        ...

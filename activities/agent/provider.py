"""The one interface every model sits behind."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from flowmaestro.activities.agent.messages import Message, StreamItem, ToolSpec


class ModelProvider(Protocol):
    """A chat model that streams: zero or more `TextDelta`s, then exactly one `TurnEnd`."""

    @property
    def model(self) -> str:
        """The model's name, as `agent:streaming_start` reports it."""
        ...

    def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec]
    ) -> AsyncIterator[StreamItem]:
        """One turn of the conversation `messages`, with `tools` offered."""
        ...

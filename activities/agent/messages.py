"""What goes to and comes back from a model: messages, tool specs, and stream items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import JsonValue

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A model's request to run a tool. `arguments` is the raw JSON text the model wrote."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    """For `tool` messages: the call this is the result of."""


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the model is told about it: a JSON Schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, JsonValue]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the model's text, in order."""

    text: str


@dataclass(frozen=True, slots=True)
class TurnEnd:
    """The last item of a turn: the tools the model wants run (if any), and why it stopped."""

    tool_calls: tuple[ToolCall, ...]
    finish_reason: str


StreamItem = TextDelta | TurnEnd

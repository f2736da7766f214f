"""`agent:*` events: an LLM agent streaming text and calling tools.

`attempt` (an addition to the seed's contract, defaulted) lets clients tell a retried
activity's stream from the previous attempt's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue

from flowmaestro.events.catalogue.common import ErrorInfo
from flowmaestro.events.model import Envelope, WireModel

ToolCallStatus = Literal["started", "completed", "failed"]


class AgentStreamingStartData(WireModel):
    agent_id: str
    node_id: str
    model: str
    attempt: int = Field(default=1, ge=1)


class AgentTokenData(WireModel):
    token: str
    index: int = Field(ge=0)
    offset: int = Field(ge=0, description="characters of the response before this token")
    attempt: int = Field(default=1, ge=1)


class AgentToolCallData(WireModel):
    tool_call_id: str
    tool_name: str
    arguments: dict[str, JsonValue]
    status: ToolCallStatus
    result: JsonValue = None
    error: ErrorInfo | None = None


class AgentStreamingEndData(WireModel):
    response: str
    token_count: int = Field(ge=0)
    finish_reason: str
    attempt: int = Field(default=1, ge=1)


class AgentStreamingStart(Envelope):
    type: Literal["agent:streaming_start"] = "agent:streaming_start"
    data: AgentStreamingStartData


class AgentToken(Envelope):
    type: Literal["agent:token"] = "agent:token"
    data: AgentTokenData


class AgentToolCall(Envelope):
    type: Literal["agent:tool_call"] = "agent:tool_call"
    data: AgentToolCallData


class AgentStreamingEnd(Envelope):
    type: Literal["agent:streaming_end"] = "agent:streaming_end"
    data: AgentStreamingEndData

"""`user_input:*` events: a flow asks a person and waits."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, JsonValue

from flowmaestro.events.model import Envelope, WireModel

InputType = Literal["text", "number", "boolean", "choice", "json"]
OnTimeout = Literal["fail", "default", "skip"]


class UserInputRequiredData(WireModel):
    input_id: str
    node_id: str
    prompt: str
    input_type: InputType
    # `schema` would shadow a BaseModel attribute; the wire name stays `schema`.
    answer_schema: dict[str, JsonValue] = Field(alias="schema")
    choices: list[JsonValue] | None = None
    timeout_seconds: float | None = Field(default=None, gt=0)
    expires_at: datetime | None = None


class UserInputReceivedData(WireModel):
    input_id: str
    node_id: str


class UserInputTimeoutData(WireModel):
    input_id: str
    node_id: str
    timeout_seconds: float = Field(gt=0)
    on_timeout: OnTimeout


class UserInputRequired(Envelope):
    type: Literal["user_input:required"] = "user_input:required"
    data: UserInputRequiredData


class UserInputReceived(Envelope):
    type: Literal["user_input:received"] = "user_input:received"
    data: UserInputReceivedData


class UserInputTimeout(Envelope):
    type: Literal["user_input:timeout"] = "user_input:timeout"
    data: UserInputTimeoutData

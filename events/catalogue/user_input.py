"""`user_input:*` events: a flow asks a person and waits."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, JsonValue

from flowmaestro.events.model import Envelope, WireModel, added_field

InputType = Literal["text", "number", "boolean", "choice", "json"]
OnTimeout = Literal["fail", "default", "skip"]
ClientKind = Literal["socketio", "http", "temporal"]
"""How an answer arrived: the gateway's Socket.IO or HTTP API, or a Temporal client."""

_NAME = r"^[^*?%\[\]\x00-\x1f]{1,200}$"
"""A user or group name: no wildcard or control character (as a token's claims)."""


class Assignees(WireModel):
    """Who may answer a prompt: these users, and every member of these groups of the
    execution's workspace (docs/teams.md)."""

    users: list[Annotated[str, Field(pattern=_NAME)]] = Field(default_factory=list, max_length=100)
    groups: list[Annotated[str, Field(pattern=_NAME)]] = Field(default_factory=list, max_length=100)


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
    assignees: Assignees | None = added_field()
    """Who may answer (None: the execution's owner)."""
    exclude_requester: bool = added_field(False)
    """The execution's owner may not answer, even as an assignee."""


class UserInputReceivedData(WireModel):
    """The answer, with its audit (docs/teams.md): who gave it, when, through what. Events
    recorded before the audit have none of it."""

    input_id: str
    node_id: str
    answered_by: str | None = added_field()
    """The user who answered (None: a Temporal client that did not say)."""
    answered_at: datetime | None = added_field()
    client: ClientKind | None = added_field()
    value: JsonValue = added_field()
    """The answer."""


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

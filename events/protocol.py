"""The Socket.IO protocol's client messages and acks (docs/protocol.md).

They live beside the event catalogue because they are wire contract too: the gateway
validates and answers with them, and the TypeScript SDK's types are generated from them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, JsonValue, model_validator

from flowmaestro.events.model import WireModel

ErrorCode = Literal[
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "invalid_input",
    "already_answered",
    "expired",
    "rate_limited",
    "quota_exceeded",
    "too_large",
    "unavailable",
    "internal",
]


class ErrorBody(WireModel):
    """A refusal: a machine-readable code, a human message, optional details."""

    code: ErrorCode
    message: str
    details: JsonValue = None


class ErrorAck(WireModel):
    ok: Literal[False] = False
    error: ErrorBody


class OkAck(WireModel):
    ok: Literal[True] = True


Channel = Annotated[str, Field(min_length=1, max_length=500)]


class ClientMessage(WireModel):
    """What a client sends: strict, so a value of the wrong type is refused, never converted
    (`true` is no position, `"0"` no number, `"yes"` no boolean)."""

    model_config = ConfigDict(strict=True)


# Positions are Postgres bigints: a larger one is a bad request, not a failed query.
MAX_POSITION = (1 << 63) - 1


class SubscribeRequest(ClientMessage):
    """`channel`, or several `channels` resumed with one cursor `after` (their events after
    it arrive once each, in position order). `batch` asks for `events` messages."""

    channel: Channel | None = None
    channels: list[Channel] | None = Field(default=None, min_length=1, max_length=100)
    after: int | None = Field(default=None, ge=0, le=MAX_POSITION)
    batch: bool = False

    @model_validator(mode="after")
    def _one_form(self) -> SubscribeRequest:
        if (self.channel is None) == (self.channels is None):
            raise ValueError("give either channel or channels")
        return self

    @property
    def names(self) -> list[str]:
        return [self.channel] if self.channel is not None else list(self.channels or ())


class ConnectOptions(ClientMessage):
    """What the `auth` payload of a connect may carry besides the token. With `after`, the
    connect resumes: the user channel's events after it come before any live one. `batch`
    asks for `events` messages."""

    model_config = ConfigDict(extra="ignore")

    after: int | None = Field(default=None, ge=0, le=MAX_POSITION)
    batch: bool = False


class SubscribeAck(WireModel):
    """`position` is the position the live stream continues from; `recovered` is False when
    `after` predates the retained history, so the client must reload state. `channel` is the
    (first) channel subscribed, `channels` every channel of the request. `replayed`
    counts every event sent before the ack: the replay and the live events held behind it."""

    ok: Literal[True] = True
    channel: str
    channels: list[str]
    position: int = Field(ge=0)
    replayed: int = Field(ge=0)
    recovered: bool
    presence: list[str] | None = None
    """Of an execution or knowledge-base channel: who else is watching it, by user (the
    subscriber's own user too when it watches from another connection)."""
    presences: dict[str, list[str]] | None = None
    """The same for a subscribe of several channels, by channel."""


class UnsubscribeRequest(ClientMessage):
    channel: str = Field(min_length=1, max_length=500)


class ProvideInputRequest(ClientMessage):
    execution_id: str = Field(min_length=1, max_length=200)
    input_id: str = Field(min_length=1, max_length=200)
    value: JsonValue


class PresenceChange(WireModel):
    """The data of `presence:join` and `presence:leave`: `user_id` started (or stopped)
    watching `channel` on some connection other than the receiving one."""

    channel: str
    user_id: str


class ConnectErrorData(WireModel):
    """The `data` of a refused connection's `connect_error`."""

    code: ErrorCode
    message: str


class AuthRefreshRequest(ClientMessage):
    """`auth:refresh`: a fresh token for the same `sub`, before the current one expires."""

    token: str = Field(min_length=1, max_length=16384)


class AuthRefreshAck(WireModel):
    """The socket stays authorized until `exp` (seconds since the epoch)."""

    ok: Literal[True] = True
    exp: int


class AuthExpiring(WireModel):
    """Server event `auth:expiring`: the socket's token expires at `exp` (seconds since the
    epoch); send `auth:refresh` before then or be disconnected."""

    exp: int


class AuthExpired(WireModel):
    """Server event `auth:expired`, sent just before the gateway disconnects a socket whose
    token has expired: reconnect with a fresh token."""

    reason: Literal["token_expired"] = "token_expired"
    message: str

"""The Socket.IO protocol's client messages and acks (docs/protocol.md).

They live beside the event catalogue because they are wire contract too: the gateway
validates and answers with them, and the TypeScript SDK's types are generated from them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue

from events.model import WireModel

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


class SubscribeRequest(WireModel):
    channel: str = Field(min_length=1, max_length=500)
    after: int | None = Field(default=None, ge=0)


class SubscribeAck(WireModel):
    """`position` is the channel's position the live stream continues from; `recovered` is
    False when `after` predates the retained history, so the client must reload state."""

    ok: Literal[True] = True
    channel: str
    position: int = Field(ge=0)
    replayed: int = Field(ge=0)
    recovered: bool
    presence: list[str] | None = None
    """Of an execution or knowledge-base channel: who else is watching it, by user (the
    subscriber's own user too when it watches from another connection)."""


class UnsubscribeRequest(WireModel):
    channel: str = Field(min_length=1, max_length=500)


class ProvideInputRequest(WireModel):
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


class AuthRefreshRequest(WireModel):
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

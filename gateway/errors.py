"""The one root exception of `gateway`, and the errors that carry data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowmaestro.events.protocol import ErrorAck, ErrorBody

if TYPE_CHECKING:
    from pydantic import JsonValue

    from flowmaestro.events.protocol import ErrorCode


def error_payload(code: ErrorCode, message: str, details: JsonValue = None) -> dict[str, Any]:
    """A refusal as Socket.IO answers it: `{ok: false, error: {code, message, details}}`."""
    return ErrorAck(error=ErrorBody(code=code, message=message, details=details)).model_dump(
        mode="json"
    )


class GatewayError(Exception):
    """Root of every error raised by the gateway: a wire error code and a human message."""

    def __init__(self, code: ErrorCode, message: str, details: JsonValue = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode = code
        self.message = message
        self.details = details


class AuthError(GatewayError):
    """A token was missing or refused."""

    def __init__(self, message: str) -> None:
        super().__init__("unauthorized", message)


class UnavailableError(GatewayError):
    """A dependency (Postgres, Temporal, a worker) is away for now: the same request may
    succeed after `retry_after` seconds. Nothing was lost; the client retries."""

    def __init__(self, dependency: str, message: str, retry_after: float = 2.0) -> None:
        super().__init__("unavailable", message, {"dependency": dependency})
        self.dependency = dependency
        self.retry_after = retry_after


class RateLimitedError(GatewayError):
    """Too many requests; `retry_after` seconds until the next one is accepted."""

    def __init__(self, message: str, retry_after: float, details: JsonValue = None) -> None:
        super().__init__("rate_limited", message, details)
        self.retry_after = retry_after

"""The client's errors: each carries the gateway's wire code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowmaestro.errors import FlowMaestroError

if TYPE_CHECKING:
    from pydantic import JsonValue


class ClientError(FlowMaestroError):
    """The gateway refused a request; `code` is its wire code (docs/protocol.md)."""

    def __init__(self, code: str, message: str, details: JsonValue = None) -> None:
        super().__init__(message)
        self.code = code
        self.details = details

    @classmethod
    def from_ack(cls, ack: object, what: str | None = None) -> ClientError:
        """The refusal in an ack `{ok: false, error: {code, message, details}}`; `what`,
        when given, says what was refused (and the code is appended)."""
        error = ack.get("error") if isinstance(ack, dict) else None
        if not isinstance(error, dict):
            error = {"code": "internal", "message": f"the gateway answered {ack!r}"}
        code = str(error.get("code", "internal"))
        message = str(error.get("message"))
        if what is not None:
            message = f"{what}: {message} ({code})"
        return cls(code, message, error.get("details"))


class RefusedError(ClientError):
    """The gateway refused the token (connect_error `unauthorized`)."""


class SubscribeError(ClientError):
    """A subscribe was refused (forbidden, not_found, bad_request...)."""

"""How a node's exception is reported: message, type, and whether a retry could help.

The rule: a node's own failures say whether they are retryable (`NodeError`); of other
exceptions, only the transient kinds retry (a connection refused or reset, a timeout, the
database restarting, a deadlock or serialization conflict). Everything else, including any
library's own error (a PDF parser's limit, a bad value), is a fault of the input or a bug
that another attempt would repeat: it fails the node at once, type `internal_error`, with
the exception's class named in the message.
"""

from __future__ import annotations

import dataclasses

import asyncpg
import httpx
from pydantic import ValidationError

from flowmaestro.activities.errors import NodeError
from flowmaestro.events.catalogue.common import ErrorInfo
from flowmaestro.events.catalogue.node import NodeFailedData
from flowmaestro.flows.errors import TemplateError

TRANSIENT: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    httpx.TransportError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
)
"""Exception types another attempt may get past; every other unknown one fails at once."""

_MAX_MESSAGE = 500


@dataclasses.dataclass(frozen=True, slots=True)
class Failure:
    message: str
    type: str
    retryable: bool

    @classmethod
    def of(cls, exc: BaseException, timeout_seconds: float) -> Failure:
        if isinstance(exc, NodeError):
            return cls(exc.message, exc.type, exc.retryable)
        if isinstance(exc, TimeoutError):
            return cls(f"node timed out after {timeout_seconds:g}s", "timeout", True)
        if isinstance(exc, TemplateError):
            return cls(str(exc), exc.type, False)
        if isinstance(exc, ValidationError):
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "config"
            return cls(f"config {where}: {first['msg']}", "invalid_config", False)
        detail = str(exc)[:_MAX_MESSAGE]
        message = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
        if isinstance(exc, TRANSIENT):
            return cls(message, "transient_error", True)
        return cls(message, "internal_error", False)

    def node_failed(
        self,
        node_id: str,
        node_type: str,
        *,
        attempt: int,
        max_attempts: int,
        retry_in_ms: int | None,
    ) -> NodeFailedData:
        """This failure as one attempt's `node:failed`; `retry_in_ms` is None when no
        attempt follows."""
        return NodeFailedData(
            node_id=node_id,
            node_type=node_type,
            error=ErrorInfo(message=self.message, type=self.type),
            attempt=attempt,
            max_attempts=max_attempts,
            will_retry=retry_in_ms is not None,
            next_retry_in_ms=retry_in_ms,
        )

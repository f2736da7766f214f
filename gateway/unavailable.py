"""Which failures mean "a dependency is away", so a client is told to retry (503
`unavailable`), not that the gateway failed (500 `internal`)."""

from __future__ import annotations

import asyncpg
from temporalio.service import RPCError, RPCStatusCode

from flowmaestro.events.outbox.availability import is_outage
from flowmaestro.gateway.errors import UnavailableError

_TEMPORAL_AWAY = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED})

OUTAGE_TYPES: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    RPCError,
)
"""The classes an outage surfaces as (HTTP error handlers are chosen by class)."""


def as_unavailable(exc: BaseException) -> UnavailableError | None:
    """`exc` as the client should see it when it means Postgres or Temporal is away."""
    if isinstance(exc, UnavailableError):
        return exc
    if isinstance(exc, RPCError) and exc.status in _TEMPORAL_AWAY:
        return UnavailableError("temporal", "Temporal is unavailable; retry shortly")
    if is_outage(exc):
        return UnavailableError("postgres", "the database is unavailable; retry shortly")
    return None

"""Cancelling an execution: the owner asks, Temporal cancels the workflow by its id, and the
workflow itself reports the end (`execution:failed` with `error.type: "cancelled"`, status
`cancelled`). The gateway loads no workflow code: a cancel request is all it sends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from temporalio.service import RPCError, RPCStatusCode

from flowmaestro.events.catalogue.execution import ExecutionStatus
from flowmaestro.events.model import WireModel
from flowmaestro.gateway.errors import GatewayError
from flowmaestro.gateway.ownership import Owned, require_owner
from flowmaestro.gateway.unavailable import as_unavailable

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client

    from flowmaestro.gateway.auth import Principal

_OWNER_AND_STATUS = "SELECT user_id, workspace_id, visibility, status FROM executions WHERE id = $1"
_ENDED: frozenset[ExecutionStatus] = frozenset({"completed", "failed", "cancelled"})


class CancelResult(WireModel):
    """`POST /api/executions/{id}/cancel`: what the request did."""

    execution_id: str
    status: ExecutionStatus
    """The status recorded when the request was handled; a cancellation ends in `cancelled`
    once the workflow has reported it."""
    cancel_requested: bool
    """False when the execution had already ended: there was nothing to cancel."""


async def cancel_execution(
    client: Client, pool: asyncpg.Pool, user: Principal, execution_id: str
) -> CancelResult:
    """Ask Temporal to cancel the owner's execution; idempotent (asking again, or after the
    end, changes nothing). GatewayError `not_found` / `forbidden` as for every execution."""
    row = await pool.fetchrow(_OWNER_AND_STATUS, execution_id)
    owned = Owned(row["user_id"], row["workspace_id"], row["visibility"]) if row else None
    require_owner(owned, user, f"execution {execution_id}")
    assert row is not None
    status: ExecutionStatus = row["status"]
    if status in _ENDED:
        return CancelResult(execution_id=execution_id, status=status, cancel_requested=False)
    try:
        await client.get_workflow_handle(execution_id).cancel()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise as_unavailable(exc) or GatewayError(
                "internal", f"Temporal refused the cancel: {exc.message}"
            ) from exc
        # The workflow closed between the read and the request: nothing left to cancel.
        status = await pool.fetchval("SELECT status FROM executions WHERE id = $1", execution_id)
        return CancelResult(execution_id=execution_id, status=status, cancel_requested=False)
    return CancelResult(execution_id=execution_id, status=status, cancel_requested=True)

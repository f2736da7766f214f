"""User input back to Temporal: the owner's answer becomes the workflow's `provide_input`
Update, and every outcome becomes one of the wire codes of docs/protocol.md."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from flowmaestro.events.channels import execution_channel
from flowmaestro.flows.messages import (
    PROVIDE_INPUT,
    REJECTION_CODES,
    ProvideInput,
    ProvideInputResult,
)
from flowmaestro.gateway.errors import GatewayError, UnavailableError
from flowmaestro.gateway.ownership import execution_owner, require_owner
from flowmaestro.gateway.unavailable import as_unavailable

if TYPE_CHECKING:
    import asyncpg
    from pydantic import JsonValue
    from temporalio.client import Client

# The input's fate as the execution's events tell it (for a workflow that has closed).
_FATE = """
SELECT o.type FROM event_channel_positions c JOIN event_outbox o ON o.position = c.position
WHERE c.channel = $1 AND o.type IN ('user_input:received', 'user_input:timeout',
                                    'user_input:required')
  AND o.envelope->'data'->>'inputId' = $2
ORDER BY c.position DESC LIMIT 1
"""


async def provide_input(
    client: Client,
    pool: asyncpg.Pool,
    user_id: str,
    execution_id: str,
    input_id: str,
    value: JsonValue,
    timeout: float = 30.0,
) -> ProvideInputResult:
    """Hand `value` to the waiting workflow; GatewayError with the wire code otherwise.

    `timeout` bounds the wait for a worker to run the update (none may be running)."""
    require_owner(await execution_owner(pool, execution_id), user_id, f"execution {execution_id}")
    handle = client.get_workflow_handle(execution_id)
    try:
        result: ProvideInputResult = await asyncio.wait_for(
            handle.execute_update(
                PROVIDE_INPUT,
                ProvideInput(input_id=input_id, value=value),
                result_type=ProvideInputResult,
            ),
            timeout,
        )
        return result
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as exc:
        # wait_for cancels the call, which the client reports as its own error type.
        raise UnavailableError(
            "worker", f"no worker answered within {timeout:g}s; the answer may still apply"
        ) from exc
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type in REJECTION_CODES:
            details = cause.details[0] if cause.details else None
            raise GatewayError(cause.type, cause.message, details) from exc
        raise GatewayError("internal", f"the workflow failed the update: {cause}") from exc
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise as_unavailable(exc) or GatewayError(
                "internal", f"Temporal refused the update: {exc.message}"
            ) from exc
        raise await _closed(pool, execution_id, input_id) from exc


async def _closed(pool: asyncpg.Pool, execution_id: str, input_id: str) -> GatewayError:
    """The workflow has ended: say what became of the input."""
    fate = await pool.fetchval(_FATE, execution_channel(execution_id), input_id)
    if fate == "user_input:received":
        return GatewayError("already_answered", f"input {input_id} was already answered")
    if fate is not None:
        return GatewayError("expired", f"input {input_id} can no longer be answered")
    return GatewayError("not_found", f"no input {input_id} in execution {execution_id}")

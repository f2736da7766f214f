"""User input back to Temporal: an answer becomes the workflow's `provide_input` Update, and
every outcome becomes one of the wire codes of docs/protocol.md.

Who may answer is checked here first (the execution must be visible to the answerer, and the
prompt must accept them: flows/assignees.py), so a refused answer never reaches Temporal;
the Update's validator checks it again from the answerer the gateway passes on."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from flowmaestro.events.catalogue.user_input import Assignees
from flowmaestro.events.channels import execution_channel
from flowmaestro.flows.assignees import refusal
from flowmaestro.flows.messages import (
    PROVIDE_INPUT,
    REJECTION_CODES,
    Answerer,
    ProvideInput,
    ProvideInputResult,
)
from flowmaestro.gateway.errors import GatewayError, UnavailableError
from flowmaestro.gateway.ownership import Owned, require_visible
from flowmaestro.gateway.unavailable import as_unavailable

if TYPE_CHECKING:
    import asyncpg
    from pydantic import JsonValue
    from temporalio.client import Client

    from flowmaestro.events.catalogue.user_input import ClientKind
    from flowmaestro.gateway.auth import Principal

# The execution's access and the prompt as its state holds it while open (or NULL).
_PROMPT = """
SELECT user_id, workspace_id, visibility, state -> 'pendingInputs' -> $2 -> 0
FROM executions WHERE id = $1
"""

# The input's fate as the execution's events tell it (for a workflow that has closed).
_FATE = """
SELECT o.type FROM event_channel_positions c JOIN event_outbox o ON o.position = c.position
WHERE c.channel = $1 AND o.type IN ('user_input:received', 'user_input:timeout',
                                    'user_input:required')
  AND o.envelope->'data'->>'inputId' = $2
ORDER BY c.position DESC LIMIT 1
"""


async def check_answerer(
    pool: asyncpg.Pool, answerer: Principal, execution_id: str, input_id: str
) -> None:
    """Refuse (GatewayError) an answerer who may not see the execution or answer the prompt;
    a prompt the state does not hold (yet, or any more) is left to the Update's validator."""
    row = await pool.fetchrow(_PROMPT, execution_id, input_id)
    owned = None if row is None else Owned(row[0], row[1], row[2])
    require_visible(owned, answerer, f"execution {execution_id}")
    assert owned is not None and row is not None
    prompt = json.loads(row[3]) if row[3] is not None else None
    if not isinstance(prompt, dict):
        return
    raw = prompt.get("assignees")
    why = refusal(
        _answerer(answerer, "http"),
        assignees=None if raw is None else Assignees.model_validate(raw),
        exclude_requester=prompt.get("excludeRequester") is True,
        requester=owned.owner,
        workspace=owned.workspace,
    )
    if why is not None:
        raise GatewayError("forbidden", why)


def _answerer(principal: Principal, kind: ClientKind) -> Answerer:
    return Answerer(
        user_id=principal.user_id,
        workspace=principal.workspace,
        groups=sorted(principal.groups),
        client=kind,
    )


async def provide_input(
    client: Client,
    pool: asyncpg.Pool,
    answerer: Principal,
    execution_id: str,
    input_id: str,
    value: JsonValue,
    kind: ClientKind,
    timeout: float = 30.0,
) -> ProvideInputResult:
    """Hand `value` to the waiting workflow; GatewayError with the wire code otherwise.

    `kind` is the API it came through; `timeout` bounds the wait for a worker to run the
    update (none may be running)."""
    await check_answerer(pool, answerer, execution_id, input_id)
    handle = client.get_workflow_handle(execution_id)
    try:
        result: ProvideInputResult = await asyncio.wait_for(
            handle.execute_update(
                PROVIDE_INPUT,
                ProvideInput(input_id=input_id, value=value, answerer=_answerer(answerer, kind)),
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

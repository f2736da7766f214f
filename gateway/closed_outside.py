"""Executions whose workflow closed outside our code (`temporal workflow terminate`, a
workflow timeout, a reset): their rows still say running, and nothing of ours will ever
write their end. Asked about when it matters (a user at the running cap), each such
execution gets its `execution:failed` (type `closed_outside`, which folds its status) so
clients and the cap see it ended."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from flowmaestro.events.catalogue.common import ErrorInfo
from flowmaestro.events.catalogue.execution import ExecutionFailedData
from flowmaestro.events.envelopes import envelope
from flowmaestro.events.ids import event_id
from flowmaestro.events.outbox import write_events

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client

log = logging.getLogger(__name__)

UNFINISHED = ("pending", "running", "waiting")
_CANDIDATES = """
SELECT id, workflow_id FROM executions
WHERE user_id = $1 AND status = ANY($2::text[])
ORDER BY created_at LIMIT $3
"""


async def end_closed_outside(pool: asyncpg.Pool, temporal: Client, user_id: str, limit: int) -> int:
    """Write the end of `user_id`'s unfinished executions (the oldest `limit`) whose
    workflow is closed; return how many."""
    ended = []
    for row in await pool.fetch(_CANDIDATES, user_id, list(UNFINISHED), limit):
        try:
            described = await temporal.get_workflow_handle(row["id"]).describe()
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
            continue  # not started yet (or long gone from Temporal's retention)
        if described.status in (None, WorkflowExecutionStatus.RUNNING):
            continue
        closed = described.status.name.lower()
        log.info("execution %s was %s outside FlowMaestro: recording its end", row["id"], closed)
        data = ExecutionFailedData(
            error=ErrorInfo(
                message=f"the workflow was {closed.replace('_', ' ')} outside FlowMaestro",
                type="closed_outside",
            ),
            failed_node_id=None,
        )
        ended.append(
            envelope(
                data,
                # One end per execution, however often this runs.
                id=event_id(row["id"], "closed_outside"),
                user_id=user_id,
                execution_id=row["id"],
                workflow_id=row["workflow_id"],
            )
        )
    if ended:
        async with pool.acquire() as con, con.transaction():
            await write_events(con, ended)
    return len(ended)

"""An execution's state as of a position (GET /api/executions/{id}), read from its one row.

The row's `state` is folded as the events are written, in their statement
(events/execution_state.py), so it survives `flowmaestro prune` and the Temporal history.
The position is not known when an event is written (the sequencer assigns it after the
commit), so the reader works it out, in one REPEATABLE READ snapshot with the row:

* while any of the execution's events is still unnumbered, the row is ahead of every
  position: the reader waits (briefly, bounded) for the sequencer to number them;
* then every folded event has a position and every later one will get a larger one, so the
  position is the execution's last: its channel's highest remaining position, or the highest
  one retention deleted (`pruned_position`, recorded by the prune itself).

Resuming with `after=position` therefore continues exactly where the snapshot ends, before
and after a prune alike.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from flowmaestro.events.channels import execution_channel
from flowmaestro.events.execution_state import read_state
from flowmaestro.gateway.ownership import Owned

if TYPE_CHECKING:
    import asyncpg

_ROW = """
SELECT id, user_id, workflow_id, status, inputs, graph, created_at, updated_at, run_id,
       state, pruned_position, workspace_id, visibility
FROM executions WHERE id = $1
"""
# The unnumbered rows are few (the partial index `event_outbox_unsequenced` holds just them).
_POSITION = """
SELECT EXISTS (
           SELECT 1 FROM event_outbox
           WHERE position IS NULL AND envelope->>'executionId' = $1
       ),
       (SELECT max(position) FROM event_channel_positions WHERE channel = $2)
"""
# How long a snapshot waits for the sequencer before answering with what is numbered.
_WAIT_SECONDS = 3.0


async def read_snapshot(pool: asyncpg.Pool, execution_id: str) -> tuple[asyncpg.Record, int] | None:
    """The execution's row and its snapshot's position; None when there is no such row.

    Should the sequencer not number the execution's events within a few seconds (it is
    down), the row comes with the last numbered position: a resume then sees the unnumbered
    events again once they are numbered (each is identified by its id)."""
    delay = 0.002
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _WAIT_SECONDS
    while True:
        async with (
            pool.acquire() as con,
            con.transaction(isolation="repeatable_read", readonly=True),
        ):
            row = await con.fetchrow(_ROW, execution_id)
            if row is None:
                return None
            position = await con.fetchrow(_POSITION, execution_id, execution_channel(execution_id))
            assert position is not None
            pending, top = position
        if not pending or loop.time() >= deadline:
            return row, max(top or 0, row["pruned_position"])
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.1)


def execution_snapshot(row: asyncpg.Record, position: int) -> dict[str, Any]:
    """What read_snapshot read, as the API shows it: summary, inputs, position, state."""
    return {
        **summary(row),
        "runId": row["run_id"],
        "inputs": json.loads(row["inputs"]),
        "graph": json.loads(row["graph"]) if row["graph"] is not None else None,
        "position": position,
        **read_state(json.loads(row["state"])),
    }


def access_of(row: asyncpg.Record) -> Owned:
    return Owned(row["user_id"], row["workspace_id"], row["visibility"])


def summary(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "executionId": row["id"],
        "flowName": row["workflow_id"],
        "ownerId": row["user_id"],
        "visibility": row["visibility"],
        "status": row["status"],
        "createdAt": row["created_at"].isoformat(),
        "updatedAt": row["updated_at"].isoformat(),
    }

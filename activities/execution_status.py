"""The `executions.status` column: what list views show without replaying events.

A status is written in the same transaction as the event that changes it, so nothing can
read `execution:failed` while the status still says `waiting`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from events.outbox import write_events

if TYPE_CHECKING:
    from collections.abc import Sequence

    import asyncpg

    from events import Event

ExecutionStatus = Literal["pending", "running", "waiting", "completed", "failed", "cancelled"]


async def emit_with_status(
    pool: asyncpg.Pool, events: Sequence[Event], execution_id: str, status: ExecutionStatus
) -> None:
    """Write `events` and the execution's new `status` in one transaction."""
    async with pool.acquire() as con, con.transaction():
        await write_events(con, events)
        await con.execute(
            "UPDATE executions SET status = $2, updated_at = now() WHERE id = $1",
            execution_id,
            status,
        )

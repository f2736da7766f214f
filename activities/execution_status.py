"""The `executions.status` column: what list views show without replaying events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import asyncpg

ExecutionStatus = Literal["pending", "running", "waiting", "completed", "failed", "cancelled"]


async def set_status(pool: asyncpg.Pool, execution_id: str, status: ExecutionStatus) -> None:
    await pool.execute(
        "UPDATE executions SET status = $2, updated_at = now() WHERE id = $1", execution_id, status
    )

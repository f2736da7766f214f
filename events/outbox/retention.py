"""Pruning old outbox rows; resumes from before the pruned horizon answer recovered=False.

An execution's state row (migration 0014) outlives its events; the prune records in it the
last position it deleted, so the execution's snapshot keeps its position."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from flowmaestro.events.outbox.connection import Connection

_PRUNE = """
WITH cutoff AS (
    SELECT max(position) AS p FROM event_outbox
    WHERE position IS NOT NULL AND sequenced_at < $1
), gone AS (
    DELETE FROM event_outbox WHERE position <= (SELECT p FROM cutoff) RETURNING position
), gone_channels AS (
    DELETE FROM event_channel_positions WHERE position <= (SELECT p FROM cutoff)
    RETURNING channel, position
), stamped AS (
    -- An execution's snapshot position must not fall back when its events go: record
    -- the last deleted one in its row (gateway/snapshot.py).
    UPDATE executions e SET pruned_position = greatest(e.pruned_position, last.position)
    FROM (
        SELECT substr(channel, length('execution:') + 1) AS id, max(position) AS position
        FROM gone_channels WHERE starts_with(channel, 'execution:') GROUP BY 1
    ) last
    WHERE e.id = last.id
)
UPDATE outbox_sequencer
SET pruned_through = greatest(pruned_through, coalesce((SELECT p FROM cutoff), 0))
RETURNING (SELECT count(*) FROM gone), pruned_through
"""


async def prune_before(con: Connection, before: datetime) -> tuple[int, int]:
    """Delete events sequenced before `before`; return (rows deleted, pruned-through position)."""
    async with con.transaction():
        row = await con.fetchrow(_PRUNE, before)
    assert row is not None
    return int(row[0]), int(row[1])

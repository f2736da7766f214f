"""Pruning old outbox rows; resumes from before the pruned horizon answer recovered=False.

An execution's state row (migration 0014) outlives its events; the prune records in it the
last position it deleted, so the execution's snapshot keeps its position."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from flowmaestro.events.outbox.connection import Connection

# The newest position sequenced before the cut-off (positions follow sequencing order).
_CUTOFF = """
SELECT coalesce(max(position), 0) FROM event_outbox
WHERE position IS NOT NULL AND sequenced_at < $1
"""
# One step: the events after the pruned horizon up to $1, their channel rows, the
# executions' pruned positions and the horizon, in one transaction.
_PRUNE = """
WITH gone AS (
    DELETE FROM event_outbox
    WHERE position > (SELECT pruned_through FROM outbox_sequencer) AND position <= $1
    RETURNING position, channels
), gone_channels AS (
    -- By primary key: the channel rows are the events' `channels` (the sequencer writes
    -- them so), and a range of positions alone has no index there.
    DELETE FROM event_channel_positions c
    USING (SELECT jsonb_array_elements_text(channels) AS channel, position FROM gone) g
    WHERE c.channel = g.channel AND c.position = g.position
    RETURNING c.channel, c.position
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
UPDATE outbox_sequencer SET pruned_through = greatest(pruned_through, $1)
RETURNING (SELECT count(*) FROM gone), pruned_through
"""
STEP = 50_000
"""Positions pruned per transaction: each holds its row locks (the executions it stamps)
and its WAL briefly, so writers never wait behind one long prune."""


async def prune_before(con: Connection, before: datetime, step: int = STEP) -> tuple[int, int]:
    """Delete events sequenced before `before`, `step` positions a transaction; return
    (rows deleted, pruned-through position)."""
    cutoff = int(await con.fetchval(_CUTOFF, before))
    through = int(await con.fetchval("SELECT pruned_through FROM outbox_sequencer"))
    deleted = 0
    while True:
        upto = min(cutoff, through + step)
        async with con.transaction():
            row = await con.fetchrow(_PRUNE, upto)
        assert row is not None
        deleted += int(row[0])
        through = int(row[1])
        if through >= cutoff:
            return deleted, through

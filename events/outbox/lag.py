"""How far sequencing is behind, and what holds it back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

    from flowmaestro.events.outbox.connection import Connection

_LAG = """
WITH pending AS (
    SELECT count(*) AS n, min(created_at) AS oldest, min(txid) AS min_txid
    FROM event_outbox WHERE position IS NULL
), blocker AS (
    SELECT pid, extract(epoch FROM clock_timestamp() - xact_start) AS age
    FROM pg_stat_activity
    WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
    ORDER BY age(backend_xid) DESC LIMIT 1
)
SELECT pending.n,
       coalesce(extract(epoch FROM clock_timestamp() - pending.oldest), 0),
       pending.min_txid IS NOT NULL
           AND pending.min_txid >= pg_snapshot_xmin(pg_current_snapshot()),
       (SELECT pid FROM blocker), (SELECT age FROM blocker),
       -- The oldest retained row by its primary key (an index read, not a scan).
       coalesce((SELECT extract(epoch FROM clock_timestamp() - created_at)
                 FROM event_outbox ORDER BY seq LIMIT 1), 0)
FROM pending
"""


@dataclass(frozen=True, slots=True)
class OutboxLag:
    """`stalled` means committed rows wait behind an open transaction (`blocking_pid`)."""

    unsequenced: int
    oldest_unsequenced_seconds: float
    stalled: bool
    blocking_pid: int | None
    blocking_transaction_seconds: float | None
    oldest_event_seconds: float = 0.0
    """Age of the oldest retained row: past the retention, prune is not running."""


async def read_lag(con: Connection | asyncpg.Pool) -> OutboxLag:
    row = await con.fetchrow(_LAG)
    assert row is not None
    return OutboxLag(
        unsequenced=int(row[0]),
        oldest_unsequenced_seconds=float(row[1]),
        stalled=bool(row[2]),
        blocking_pid=row[3] if row[2] else None,
        blocking_transaction_seconds=float(row[4]) if row[2] and row[4] is not None else None,
        oldest_event_seconds=float(row[5]),
    )

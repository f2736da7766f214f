from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import asyncpg
import pytest

from flowmaestro.activities.execution import ExecutionRef
from flowmaestro.activities.group_commit import GroupCommitEmitter
from flowmaestro.events.catalogue.node import NodeProgressData

if TYPE_CHECKING:
    from flowmaestro.events import Event

REF = ExecutionRef(execution_id="ex_1", user_id="u1", workflow_id="f")


def progress(node: str, count: int) -> list[Event]:
    return [
        REF.event((node, i), NodeProgressData(node_id=node, progress=i, step="s"))
        for i in range(count)
    ]


async def test_concurrent_emits_share_transactions_and_each_learns_its_count(
    pool: asyncpg.Pool,
) -> None:
    emitter = GroupCommitEmitter(pool)
    calls = [progress(f"n{i}", 3) for i in range(40)]
    assert await asyncio.gather(*(emitter.emit(c) for c in calls)) == [3] * 40
    assert await pool.fetchval("SELECT count(*) FROM event_outbox") == 120
    assert await pool.fetchval("SELECT count(DISTINCT txid) FROM event_outbox") < 40
    # A retried emit (same ids) is a no-op, and says so, even batched with new events.
    again = await asyncio.gather(emitter.emit(calls[0]), emitter.emit(progress("new", 2)))
    assert list(again) == [0, 2]
    twice = progress("twice", 1)
    assert list(await asyncio.gather(emitter.emit(twice), emitter.emit(twice))) == [1, 0]
    assert await emitter.emit([]) == 0


async def test_order_within_one_emit_is_kept(pool: asyncpg.Pool) -> None:
    events = progress("a", 5)
    await GroupCommitEmitter(pool).emit(events)
    rows = await pool.fetch("SELECT event_id FROM event_outbox ORDER BY seq")
    assert [r["event_id"] for r in rows] == [e.id for e in events]


async def test_a_failed_write_fails_every_call_of_its_batch(database_dsn: str) -> None:
    pool = await asyncpg.create_pool(database_dsn, min_size=1, max_size=2)
    emitter = GroupCommitEmitter(pool)
    await pool.close()
    results = await asyncio.gather(
        emitter.emit(progress("a", 1)), emitter.emit(progress("b", 1)), return_exceptions=True
    )
    assert all(isinstance(r, asyncpg.InterfaceError) for r in results), results
    with pytest.raises(asyncpg.InterfaceError):
        await emitter.emit(progress("c", 1))

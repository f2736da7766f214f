from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from events.outbox import OutboxReader, PostgresEmitter, prune_before
from tests.events.outbox.helpers import collect
from tests.samples import one_of_each

if TYPE_CHECKING:
    import asyncpg

    from events.outbox import Sequencer


async def emitted(pool: asyncpg.Pool, count: int) -> OutboxReader:
    reader = OutboxReader(pool, poll_interval=0.2)
    await PostgresEmitter(pool).emit(one_of_each(user_id="u1", execution_id="ex_a"))
    await PostgresEmitter(pool).emit(one_of_each(user_id="u2", execution_id="ex_b", kb_id="kb_2"))
    await collect(reader, count)
    return reader


async def test_read_after_filters_by_channel_in_position_order(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    reader = await emitted(pool, 38)
    ex_a = await reader.read_after(0, "execution:ex_a")
    assert [s.envelope["executionId"] for s in ex_a] == ["ex_a"] * 15
    positions = [s.position for s in ex_a]
    assert positions == sorted(positions)
    assert [s.type for s in await reader.read_after(0, "agent:writer:ex_b")] == [
        "agent:streaming_start",
        "agent:token",
        "agent:tool_call",
        "agent:streaming_end",
    ]
    assert len(await reader.read_after(0, "kb:kb_2")) == 4
    assert len(await reader.read_after(0, "user:u2")) == 19
    page = await reader.read_after(positions[3], "execution:ex_a", limit=2)
    assert [s.position for s in page] == positions[4:6]
    assert await reader.read_after(0, "user:nobody") == []


async def test_tail_from_the_head_sees_only_new_events(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    reader = await emitted(pool, 38)
    head = await reader.head()
    assert head == 38
    await PostgresEmitter(pool).emit(one_of_each(user_id="u3")[:2])
    fresh = await collect(reader, 2, after=head)
    assert [s.position for s in fresh] == [39, 40]


async def test_replay_from_before_pruned_history_is_not_recovered(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    reader = await emitted(pool, 38)
    async with pool.acquire() as con:
        deleted, through = await prune_before(con, datetime.now(UTC) + timedelta(seconds=1))
    assert (deleted, through) == (38, 38)
    stale = await reader.replay(10, "execution:ex_a", 100)
    assert (stale.recovered, stale.events, stale.head) == (False, [], 38)
    current = await reader.replay(38, "execution:ex_a", 100)
    assert current.recovered
    assert await pool.fetchval("SELECT count(*) FROM event_channel_positions") == 0

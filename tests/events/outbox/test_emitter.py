from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from flowmaestro.events import InvalidEventError, parse_event
from flowmaestro.events.outbox import OutboxReader, PostgresEmitter, write_events
from tests.events.outbox.helpers import collect
from tests.samples import one_of_each

if TYPE_CHECKING:
    import asyncpg

    from flowmaestro.events.outbox import Sequencer


async def test_every_event_type_round_trips_unchanged(
    pool: asyncpg.Pool, sequencer: Sequencer
) -> None:
    originals = one_of_each()
    assert await PostgresEmitter(pool).emit(originals) == len(originals)
    stored = await collect(OutboxReader(pool), len(originals))
    assert [s.position for s in stored] == list(range(1, len(originals) + 1))
    for original, s in zip(originals, stored, strict=True):
        assert s.event() == original.model_copy(update={"position": s.position})
        assert s.envelope == {**original.wire(), "position": s.position}


async def test_retried_write_is_a_no_op(pool: asyncpg.Pool) -> None:
    events = one_of_each()
    emitter = PostgresEmitter(pool)
    assert await emitter.emit(events) == len(events)
    assert await emitter.emit(events) == 0
    assert await emitter.emit(events[:3]) == 0
    assert await pool.fetchval("SELECT count(*) FROM event_outbox") == len(events)


async def test_a_batch_with_an_invalid_event_writes_nothing(pool: asyncpg.Pool) -> None:
    raw = [e.wire() for e in one_of_each()]
    raw[5]["data"]["durationMs"] = -1
    with pytest.raises(InvalidEventError, match=r"data\.durationMs"):
        await PostgresEmitter(pool).emit([parse_event(r) for r in raw])
    assert await pool.fetchval("SELECT count(*) FROM event_outbox") == 0


async def test_writes_join_the_callers_transaction(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as con:
        tx = con.transaction()
        await tx.start()
        await write_events(con, one_of_each())
        await tx.rollback()
    assert await pool.fetchval("SELECT count(*) FROM event_outbox") == 0


async def test_large_batches_are_split_and_all_written(pool: asyncpg.Pool) -> None:
    template = one_of_each()[16]  # agent:token
    tokens = [template.model_copy(update={"id": uuid.uuid4()}) for _ in range(2500)]
    assert await PostgresEmitter(pool).emit(tokens) == 2500

"""The gateway's feed over a real broker: batches come from the broker, Postgres fills every
hole, and the broker's absence, silence or forgeries never lose or double an event."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flowmaestro.broker import encode, open_link
from flowmaestro.events.outbox import OutboxReader, PostgresEmitter
from tests.broker.harness import Brokered, brokered, linked
from tests.events.outbox.helpers import until
from tests.events.outbox.test_reader import token

if TYPE_CHECKING:
    import asyncpg
    import pytest

    from tests.broker.servers import BrokerServer


async def emit(pool: asyncpg.Pool, *indexes: int) -> None:
    await PostgresEmitter(pool).emit([token(i) for i in indexes])


async def positions(pool: asyncpg.Pool) -> list[int]:
    return [s.position for s in await OutboxReader(pool).read_after(0, None, 10_000)]


async def test_batches_arrive_from_the_broker_without_a_read(
    database_dsn: str, pool: asyncpg.Pool, server: BrokerServer
) -> None:
    async with brokered(database_dsn, pool, server.url) as b:
        await until(lambda: _true(b.feed.via_broker))
        reads = b.counting.reads
        for i in range(5):
            await emit(pool, 2 * i, 2 * i + 1)
            await b.received(2 * i + 2)
        assert [s.position for s in b.got] == list(range(1, 11)) == await positions(pool)
        assert b.counting.reads == reads  # every batch came from the broker
        assert b.got[3].envelope["data"]["index"] == 3
        assert b.feed.state.up and not b.feed.repairs


async def test_a_lost_batch_is_read_from_postgres(
    database_dsn: str, pool: asyncpg.Pool, nats_server: BrokerServer
) -> None:
    async with brokered(database_dsn, pool, nats_server.url) as b:
        await until(lambda: _true(b.feed.via_broker))
        b.sink.drop = {2}
        await emit(pool, 0)
        assert await b.received(1) == [1]
        await emit(pool, 1)  # lost on its way
        await until(lambda: _numbered(pool, 2))  # a batch of its own
        await emit(pool, 2)  # shows the gap
        assert await b.received(3) == [1, 2, 3] == await positions(pool)
        assert b.feed.repairs == {"gap": 1}
        assert b.feed.via_broker


async def test_forged_and_malformed_messages_are_ignored(
    database_dsn: str,
    pool: asyncpg.Pool,
    nats_server: BrokerServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with brokered(database_dsn, pool, nats_server.url) as b:
        await first_event(b, pool)
        line = '2\t1.0\tagent:token\t["user:u1"]\t{"type": "agent:token", "forged": true}'
        forgeries = [
            encode(2, "a guessed token", line),  # follows on, signed with the wrong secret
            b"2\t" + b"0" * 64 + b"\n" + line.encode(),  # a made-up signature
            b"\xff\xfe not text",
            b"",
            encode(2, "a guessed token", "not\ta row"),
        ]
        # The forger publishes on the feed's own channel through a link of its own.
        forger = open_link(nats_server.url, b.channel, retry=0.1, keepalive=1.0)
        async with linked(forger) as publish:
            for data in forgeries:
                await publish(data)
            await until(lambda: _true(b.feed.rejected == len(forgeries)))
        await emit(pool, 1, 2)
        assert await b.received(3) == [1, 2, 3] == await positions(pool)
        assert all("forged" not in s.json for s in b.got)
        assert b.feed.via_broker and not b.feed.repairs
    rejected = [r for r in caplog.records if "forged or malformed" in r.getMessage()]
    assert len(rejected) == 1  # logged once, counted each time


async def test_a_lost_broker_falls_back_to_postgres_and_returns(
    database_dsn: str,
    pool: asyncpg.Pool,
    nats_server: BrokerServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    async with brokered(database_dsn, pool, nats_server.url) as b:
        await first_event(b, pool)
        await nats_server.stop()
        await until(lambda: _true(not b.feed.via_broker))
        assert not b.feed.state.up and "connection lost" in (b.feed.state.reason or "")
        for i in range(1, 4):  # while it is away: from the Postgres tail
            await emit(pool, i)
            await b.received(i + 1)
        await nats_server.start()
        await until(lambda: _true(b.feed.via_broker), timeout=20)
        reads = b.counting.reads
        await emit(pool, 4, 5)
        assert await b.received(6) == [1, 2, 3, 4, 5, 6] == await positions(pool)
        assert b.counting.reads == reads and b.feed.state.up
    lines = [r.getMessage() for r in caplog.records]
    assert [line[:11] for line in lines if line.startswith(("broker lost", "broker back"))] == [
        "broker lost",
        "broker back",
    ]


async def test_a_silent_broker_is_noticed_and_left_until_it_delivers(
    database_dsn: str, pool: asyncpg.Pool, nats_server: BrokerServer
) -> None:
    async with brokered(database_dsn, pool, nats_server.url, silence=0.2) as b:
        await until(lambda: _true(b.feed.via_broker))
        b.sink.muted = True  # connected, delivering nothing
        await emit(pool, 0, 1)
        assert await b.received(2) == [1, 2]
        await until(lambda: _true(not b.feed.via_broker))
        assert "silent" in (b.feed.state.reason or "")
        await emit(pool, 2)
        assert await b.received(3) == [1, 2, 3]
        b.sink.muted = False
        await emit(pool, 3)
        await b.received(4)
        await until(lambda: _true(b.feed.via_broker))
        await emit(pool, 4)
        assert await b.received(5) == [1, 2, 3, 4, 5] == await positions(pool)


async def first_event(b: Brokered, pool: asyncpg.Pool) -> None:
    """Once the feed takes batches from the broker, position 1 arrives."""
    await until(lambda: _true(b.feed.via_broker))
    await emit(pool, 0)
    assert await b.received(1) == [1]


async def _numbered(pool: asyncpg.Pool, head: int) -> bool:
    return await OutboxReader(pool).head() >= head


async def _true(value: bool) -> bool:
    return value

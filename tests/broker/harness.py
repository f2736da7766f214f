"""A sequencer publishing through a broker and a gateway-side feed, on a test's database."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING, cast

import asyncpg

from flowmaestro.broker import BrokeredFeed, BrokerPublisher, open_link
from flowmaestro.events.outbox import OutboxReader, Sequencer
from tests.events.outbox.helpers import CountingPool

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from flowmaestro.broker import Link
    from flowmaestro.events.outbox import StoredEvent


class Muting:
    """The publisher, with batches left unpublished on demand (a lossy broker)."""

    def __init__(self, inner: BrokerPublisher) -> None:
        self.inner = inner
        self.muted = False
        self.drop: set[int] = set()
        """Which batches (1 = the first) are lost."""
        self.batches = 0

    @property
    def publish_bytes(self) -> int:
        return self.inner.publish_bytes

    async def sequenced(self, head: int, token: str, lines: str | None) -> None:
        self.batches += 1
        if not self.muted and self.batches not in self.drop:
            await self.inner.sequenced(head, token, lines)


class Brokered:
    def __init__(
        self, channel: str, feed: BrokeredFeed, sink: Muting, counting: CountingPool
    ) -> None:
        self.channel = channel
        self.feed = feed
        self.sink = sink
        self.counting = counting
        self.got: list[StoredEvent] = []
        self._arrived = asyncio.Condition()

    async def consume(self) -> None:
        async with contextlib.aclosing(self.feed.pages(0)) as pages:
            async for page in pages:
                self.got.extend(page)
                async with self._arrived:
                    self._arrived.notify_all()

    async def received(self, count: int, timeout: float = 15) -> list[int]:
        """The positions received once `count` have arrived."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.got) >= count)
        return [s.position for s in self.got]


@contextlib.asynccontextmanager
async def brokered(
    dsn: str, pool: asyncpg.Pool, url: str, *, silence: float = 60.0
) -> AsyncIterator[Brokered]:
    channel = f"fm-test-{uuid.uuid4().hex[:8]}"
    publisher = BrokerPublisher(open_link(url, channel, retry=0.1, keepalive=1.0))
    sink = Muting(publisher)
    counting = CountingPool(pool)
    reader = OutboxReader(cast("asyncpg.Pool", counting), poll_interval=0.2)
    link = open_link(url, channel, retry=0.1, keepalive=1.0)
    feed = BrokeredFeed(reader, link, silence=silence)
    harness = Brokered(channel, feed, sink, counting)
    sequencer = Sequencer(dsn, poll_interval=0.5, sink=sink)
    tasks = [
        asyncio.create_task(publisher.run()),
        asyncio.create_task(feed.run()),
        asyncio.create_task(sequencer.run()),
        asyncio.create_task(harness.consume()),
    ]
    try:
        await asyncio.wait_for(sequencer.active.wait(), 10)
        yield harness
    finally:
        sequencer.stop()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def linked(link: Link) -> AsyncIterator[Callable[[bytes], Awaitable[None]]]:
    """`link` connected as a publisher for the block: its `publish`."""
    up = asyncio.Event()
    task = asyncio.create_task(link.run(None, lambda ok, _: up.set() if ok else None))
    try:
        await asyncio.wait_for(up.wait(), 10)
        yield link.publish
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import asyncpg

    from flowmaestro.events.outbox import OutboxReader, StoredEvent


async def collect(
    reader: OutboxReader, count: int, *, after: int = 0, timeout: float = 30
) -> list[StoredEvent]:
    """Tail from `after` until `count` events arrived (or fail after `timeout`)."""
    got: list[StoredEvent] = []

    async def run() -> None:
        async for stored in reader.tail(after):
            got.append(stored)
            if len(got) == count:
                return

    await asyncio.wait_for(run(), timeout)
    return got


async def until(check: Callable[[], Awaitable[object]], timeout: float = 10) -> None:
    """Poll `check` until it is true (fail after `timeout`): for a state Postgres sends no
    notification about."""
    async with asyncio.timeout(timeout):
        for _ in range(10**6):
            if await check():
                return
            await asyncio.sleep(0.005)


async def arrival(reader: OutboxReader, event_id: str, *, after: int, timeout: float = 10) -> None:
    """Tail from `after` until the event with `event_id` arrives (fail after `timeout`)."""

    async def run() -> None:
        async for stored in reader.tail(after):
            if stored.envelope["id"] == event_id:
                return

    await asyncio.wait_for(run(), timeout)


class CountingPool:
    """The pool a reader sees, counting its reads (the tail's notification path makes none)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self.reads = 0

    async def fetch(self, *args: Any) -> list[asyncpg.Record]:
        self.reads += 1
        return await self._pool.fetch(*args)

    async def fetchval(self, *args: Any) -> Any:
        return await self._pool.fetchval(*args)  # the notify token, not an outbox read

    def acquire(self) -> Any:
        return self._pool.acquire()

    async def release(self, con: Any) -> None:
        await self._pool.release(con)

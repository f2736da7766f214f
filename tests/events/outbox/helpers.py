from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from events.outbox import OutboxReader, StoredEvent


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

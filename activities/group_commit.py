"""An Emitter that writes the concurrent emits of many activities in one transaction.

A worker runs many node activities at once (a parallel flow starts dozens together); each
emit as its own transaction would pay a commit and a NOTIFY apiece. Here one writer drains
everything queued while the previous transaction was in flight (group commit): a lone emit
costs one transaction as before, a burst shares them. Each call still learns how many of
its own events were new, and ids keep every write idempotent.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from events.outbox import write_events

if TYPE_CHECKING:
    from collections.abc import Sequence

    import asyncpg

    from events import Event


class GroupCommitEmitter:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._queue: list[tuple[Sequence[Event], asyncio.Future[int]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def emit(self, events: Sequence[Event]) -> int:
        if not events:
            return 0
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.append((events, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await done

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                async with self._pool.acquire() as con, con.transaction():
                    counts = [await write_events(con, events) for events, _ in batch]
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (_, done), count in zip(batch, counts, strict=True):
                # A caller cancelled meanwhile is told nothing; its events are written anyway.
                if not done.done():
                    done.set_result(count)

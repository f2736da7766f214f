"""Reading sequenced events back: by position, optionally for one channel, and as a live tail."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from events.outbox.channels import SEQUENCED
from events.union import EVENT_ADAPTER

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg

    from events.catalogue import Event


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One sequenced event as it goes on the wire: `envelope` is camelCase with `position` set."""

    position: int
    type: str
    channels: tuple[str, ...]
    envelope: dict[str, Any]

    def event(self) -> Event:
        return EVENT_ADAPTER.validate_python(self.envelope)


@dataclass(frozen=True, slots=True)
class ReadResult:
    """A page of events after a position; `recovered` is False when history was pruned."""

    events: list[StoredEvent]
    recovered: bool
    head: int


_ALL = """
SELECT position, type, channels::text, envelope::text FROM event_outbox
WHERE position > $1 ORDER BY position LIMIT $2
"""
_CHANNEL = """
SELECT o.position, o.type, o.channels::text, o.envelope::text
FROM event_channel_positions c JOIN event_outbox o ON o.position = c.position
WHERE c.channel = $3 AND c.position > $1 ORDER BY c.position LIMIT $2
"""
_STATE = "SELECT last_position, pruned_through FROM outbox_sequencer"


def _stored(row: asyncpg.Record) -> StoredEvent:
    envelope = json.loads(row[3])
    envelope["position"] = row[0]
    return StoredEvent(row[0], row[1], tuple(json.loads(row[2])), envelope)


class OutboxReader:
    """Reads sequenced events. Tails listen on their own connection; reads use the pool."""

    def __init__(self, pool: asyncpg.Pool, *, poll_interval: float = 1.0) -> None:
        self._pool = pool
        self._poll_interval = poll_interval

    async def head(self) -> int:
        """The highest position assigned so far (0 before the first event)."""
        return int(await self._pool.fetchval("SELECT last_position FROM outbox_sequencer"))

    async def read_after(
        self, position: int, channel: str | None = None, limit: int = 1000
    ) -> list[StoredEvent]:
        """Events with a position greater than `position`, in position order, at most `limit`."""
        if channel is None:
            rows = await self._pool.fetch(_ALL, position, limit)
        else:
            rows = await self._pool.fetch(_CHANNEL, position, limit, channel)
        return [_stored(r) for r in rows]

    async def replay(self, position: int, channel: str | None, limit: int) -> ReadResult:
        """Like `read_after`, plus whether the history since `position` is complete."""
        async with self._pool.acquire() as con, con.transaction(isolation="repeatable_read"):
            state = await con.fetchrow(_STATE)
            assert state is not None
            head, pruned_through = state
            if channel is None:
                rows = await con.fetch(_ALL, position, limit)
            else:
                rows = await con.fetch(_CHANNEL, position, limit, channel)
        return ReadResult([_stored(r) for r in rows], position >= pruned_through, int(head))

    async def tail(self, after: int, batch: int = 1000) -> AsyncIterator[StoredEvent]:
        """Every event with a position greater than `after`, forever, in order, each once.

        Wakes on the sequencer's NOTIFY (listened on a connection of its own) and polls as a
        fallback, so a lost notification delays events but never loses them.
        """
        wake = asyncio.Event()
        listener = await self._pool.acquire()

        def on_sequenced(*_: object) -> None:
            wake.set()

        await listener.add_listener(SEQUENCED, on_sequenced)
        try:
            last = after
            while True:
                wake.clear()
                page = await self.read_after(last, None, batch)
                for stored in page:
                    last = stored.position
                    yield stored
                if len(page) < batch:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), self._poll_interval)
        finally:
            with contextlib.suppress(Exception):
                await listener.remove_listener(SEQUENCED, on_sequenced)
            await self._pool.release(listener)

"""An Emitter that writes the concurrent emits of many activities in one transaction.

A worker runs many node activities at once (a parallel flow starts dozens together); each
emit as its own transaction would pay a commit and a NOTIFY apiece. Here one writer drains
everything queued while the previous transaction was in flight (group commit), as one
multi-row INSERT: a lone emit costs one transaction as before, a burst shares it. Each call
still learns how many of its own events were new, and ids keep every write idempotent.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from opentelemetry import trace

from flowmaestro.events.outbox import write_events
from flowmaestro.events.outbox.tracing import TRACER, current_traceparent

if TYPE_CHECKING:
    from collections.abc import Sequence

    import asyncpg
    from opentelemetry.trace import Tracer

    from flowmaestro.events import Event


# The rows this transaction inserted (retried ids were skipped): who learns "new".
_WRITTEN_HERE = (
    "SELECT event_id FROM event_outbox WHERE position IS NULL AND txid = pg_current_xact_id()"
)


class GroupCommitEmitter:
    def __init__(self, pool: asyncpg.Pool, tracer: Tracer | None = None) -> None:
        self._pool = pool
        self._tracer = tracer or trace.get_tracer(TRACER)
        self._queue: list[tuple[Sequence[Event], asyncio.Future[int], str | None]] = []
        self._writer: asyncio.Task[None] | None = None

    async def emit(self, events: Sequence[Event]) -> int:
        if not events:
            return 0
        # The span covers the wait for the group's commit; its context goes with the events
        # (the writer task runs in no caller's context).
        with self._tracer.start_as_current_span("outbox.emit", attributes={"events": len(events)}):
            done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._queue.append((events, done, current_traceparent()))
            if self._writer is None or self._writer.done():
                self._writer = asyncio.create_task(self._drain())
            return await done

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                async with self._pool.acquire() as con, con.transaction():
                    await write_events(
                        con,
                        [e for events, _, _ in batch for e in events],
                        [traced for events, _, traced in batch for _ in events],
                    )
                    new = {row[0] for row in await con.fetch(_WRITTEN_HERE)}
            except Exception as exc:
                for _, done, _ in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            counts = []
            for events, _, _ in batch:
                ids = {e.id for e in events}
                counts.append(len(ids & new))
                new -= ids  # an id two calls emitted is new for the first only
            for (_, done, _), count in zip(batch, counts, strict=True):
                # A caller cancelled meanwhile is told nothing; its events are written anyway.
                if not done.done():
                    done.set_result(count)

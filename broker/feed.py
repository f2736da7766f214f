"""The gateway's side: sequenced batches from the broker, with Postgres filling every hole.

Positions are dense, so a gap shows: a batch that does not follow on from the last position
fanned out (a lost message, one sent without its rows) makes the feed read the range up to
its head from Postgres; a late one (its head already passed) is dropped. A silent broker
shows too: after each `silence` seconds in which no batch arrived, the feed reads the head
from Postgres (while batches flow it reads nothing: a lost one shows as a gap in the next),
and a position that was numbered a whole interval ago and has still not arrived means the
broker is not delivering. While the broker is away (disconnected, or silent) the feed tails Postgres as a
gateway without a broker does, and it returns when the broker is back; each change is one
log line and shows in `state` (the metric and /readyz read it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from typing import TYPE_CHECKING, Any

from flowmaestro.broker.message import decode
from flowmaestro.events.outbox import Availability

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Sequence

    from flowmaestro.broker.link import Link
    from flowmaestro.events.outbox import OutboxReader, ReadResult, StoredEvent

log = logging.getLogger(__name__)

# Rejected messages are logged at most this often (each one is counted).
_REJECTED_LOG_INTERVAL = 60.0


class BrokeredFeed:
    """`OutboxReader.pages`'s contract (every event after `after`, in order, each once, in
    non-empty pages) fed by the broker. Run `run()` (the link) for the feed's lifetime."""

    def __init__(
        self,
        reader: OutboxReader,
        link: Link,
        *,
        silence: float = 1.0,
        held: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._link = link
        self._silence = silence
        self._held = held
        self._clock = clock
        self._inbox: deque[bytes] = deque()
        self._overflowed = False
        self._changed = asyncio.Event()
        self._connected = False
        self._lost_reason = "not connected yet"
        self._silent: str | None = None
        """Why the broker counts as silent (connected, delivering nothing); None when not."""
        self._silent_since = 0
        """The head when silence was noticed: a batch numbered after it shows delivery."""
        self._rejected_logged_at = -_REJECTED_LOG_INTERVAL
        self.state = Availability("broker")
        self.via_broker = False
        """Whether batches come from the broker now (False: the feed tails Postgres)."""
        self.repairs: Counter[str] = Counter()
        """Reads from Postgres by reason: gap, large, overflow, catch-up."""
        self.rejected = 0
        """Broker messages ignored: forged or malformed."""

    async def run(self) -> None:
        await self._link.run(self._received, self._on_state)

    # The rest of the hub's EventLog: heads and replays read Postgres, as without a broker.
    async def head(self) -> int:
        return await self._reader.head()

    async def replay(
        self, position: int, channel: str | Sequence[str] | None, limit: int
    ) -> ReadResult:
        return await self._reader.replay(position, channel, limit)

    async def trace_contexts(self, positions: Sequence[int]) -> dict[int, str]:
        return await self._reader.trace_contexts(positions)

    def _received(self, data: bytes) -> None:
        if len(self._inbox) >= self._held:
            # Far behind: one read covers what is dropped here.
            self._inbox.clear()
            self._overflowed = True
        self._inbox.append(data)
        self._changed.set()

    def _on_state(self, up: bool, reason: str | None) -> None:
        self._connected = up
        if not up:
            self._lost_reason = f"connection lost: {reason or 'disconnected'}"
            if not self.via_broker:
                self.state.lost(self._lost_reason)
        self._changed.set()

    def _usable(self) -> bool:
        return self._connected and self._silent is None

    async def pages(self, after: int, batch: int = 1000) -> AsyncGenerator[list[StoredEvent], None]:
        token = await self._reader.token()
        last = after
        while True:
            if self._usable():
                source = self._from_broker(last, token, batch)
            else:
                source = self._from_postgres(last, batch, token)
            async with contextlib.aclosing(source) as pages:
                async for page in pages:
                    last = page[-1].position
                    yield page

    async def _from_broker(
        self, last: int, token: str, batch: int
    ) -> AsyncGenerator[list[StoredEvent], None]:
        self.via_broker = True
        self.state.back()
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle | None = None
        try:
            # What was numbered before the subscription was live never reaches it: read it.
            polled = await self._reader.head()
            async for page in self._read(last, polled, batch, "catch-up"):
                last = page[-1].position
                yield page
            # The silence check's wake-up: one timer per interval, not a timeout per wait.
            deadline = loop.time() + self._silence
            timer = loop.call_at(deadline, self._changed.set)
            advanced = False  # whether a broker message moved `last` on since the last check
            while self._connected:
                self._changed.clear()
                while self._inbox:
                    sequenced = decode(self._inbox.popleft(), token)
                    if sequenced is None:
                        self._reject()
                        continue
                    if sequenced.head <= last:
                        continue  # late: read already
                    advanced = True
                    if sequenced.follows(last, token, batch):
                        last = sequenced.head
                        yield sequenced.rows
                        continue
                    reason = "gap" if sequenced.rows else "large"
                    async for page in self._read(last, sequenced.head, batch, reason):
                        last = page[-1].position
                        yield page
                if self._overflowed:
                    self._overflowed = False
                    head = await self._reader.head()
                    async for page in self._read(last, head, batch, "overflow"):
                        last = page[-1].position
                        yield page
                    continue
                if loop.time() < deadline:
                    await self._changed.wait()  # a message, a change of state, or the timer
                    continue
                deadline = loop.time() + self._silence
                timer = loop.call_at(deadline, self._changed.set)
                if advanced:
                    # Batches flow: a lost one shows as a gap in the next; no read needed.
                    advanced, polled = False, last
                    continue
                try:
                    # asyncio.timeout: see flowmaestro.waiting.
                    async with asyncio.timeout(self._silence):
                        head = await self._reader.head()
                except TimeoutError:
                    continue  # Postgres slow or cut off: batches still come; check again
                if polled > last:
                    self._silent = (
                        f"silent: position {polled} was numbered {self._silence:g}s ago and "
                        f"has not arrived (last arrived: {last})"
                    )
                    self._silent_since = head
                    break
                polled = head
        finally:
            if timer is not None:
                timer.cancel()
            self.via_broker = False
        self.state.lost(self._silent or self._lost_reason)

    async def _from_postgres(
        self, last: int, batch: int, token: str
    ) -> AsyncGenerator[list[StoredEvent], None]:
        """The Postgres tail until the broker is usable again: connected, and (after a
        silence) delivering a genuine batch again."""
        pages = self._reader.pages(last, batch)
        next_page: asyncio.Future[Any] | None = None
        try:
            while True:
                while self._inbox:
                    heard = decode(self._inbox.popleft(), token)
                    if heard is None:
                        self._reject()
                    elif heard.head > self._silent_since:
                        self._silent = None  # delivering again; the switch reads what it missed
                self._overflowed = False
                if self._usable():
                    return
                if next_page is None:
                    next_page = asyncio.ensure_future(pages.__anext__())
                self._changed.clear()
                changed: asyncio.Future[Any] = asyncio.ensure_future(self._changed.wait())
                await asyncio.wait({next_page, changed}, return_when=asyncio.FIRST_COMPLETED)
                changed.cancel()
                if next_page.done():
                    page: list[StoredEvent] = next_page.result()
                    next_page = None
                    last = page[-1].position
                    yield page
        finally:
            # A page read but not yielded is read again: `last` did not pass it.
            if next_page is not None:
                next_page.cancel()
                await asyncio.wait({next_page})
            await pages.aclose()

    async def _read(
        self, last: int, upto: int, batch: int, reason: str
    ) -> AsyncGenerator[list[StoredEvent], None]:
        """The events in (last, upto] from Postgres."""
        if last >= upto:
            return
        self.repairs[reason] += 1
        while last < upto:
            page = await self._reader.read_after(last, None, min(batch, upto - last))
            if not page:
                return  # a head past Postgres's own: only a signed message could say so
            last = page[-1].position
            yield page

    def _reject(self) -> None:
        self.rejected += 1
        now = self._clock()
        if now - self._rejected_logged_at >= _REJECTED_LOG_INTERVAL:
            self._rejected_logged_at = now
            log.warning(
                "ignoring broker messages that are forged or malformed (%d so far)", self.rejected
            )

"""Writes that outlast a Postgres outage: retried apart from any node's retry policy.

Every write an activity makes (a node attempt's events, agent tokens, a knowledge base's
rows, the workflow's own events, and the status written with them) goes through one
`WriteRetry`: an error that means "Postgres is away" (`is_outage`) is retried with capped,
jittered exponential backoff until the write succeeds or the deadline passes. An outage
therefore costs time, not an attempt, and a node's work is not re-run because its events
could not be written. Every write is idempotent (event ids derived from the step, upserts),
so a statement whose commit was lost with its connection is simply written again.

The time a write waits is reported to the innermost `pausing` block, so a node's own
timeout does not run while its events wait for the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import random
import time
from typing import TYPE_CHECKING, TypeVar

from flowmaestro.activities.errors import ActivitiesError
from flowmaestro.events.outbox.availability import Availability, is_outage

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator, Sequence

    from flowmaestro.events import Event
    from flowmaestro.events.outbox import Emitter

T = TypeVar("T")

MAX_DEADLINE_SECONDS = 3600.0
"""The longest write deadline the workflows' activity timeouts leave room for."""

_PAUSED: contextvars.ContextVar[Callable[[float], None] | None] = contextvars.ContextVar(
    "write_retry_paused", default=None
)


class WriteDeadlineError(ActivitiesError):
    """Postgres stayed away longer than the write deadline."""

    def __init__(self, waited: float, cause: BaseException) -> None:
        super().__init__(f"the database was unreachable for {waited:.0f}s: {cause}")
        self.waited = waited


@contextlib.contextmanager
def pausing(on_wait: Callable[[float], None]) -> Iterator[None]:
    """Within the block (and tasks started in it), `on_wait(seconds)` hears of each wait."""
    token = _PAUSED.set(on_wait)
    try:
        yield
    finally:
        _PAUSED.reset(token)


class WriteRetry:
    """The retry loop for one process's writes, and what it has seen of Postgres."""

    def __init__(
        self,
        *,
        deadline: float = 900.0,
        initial_interval: float = 0.1,
        max_interval: float = 5.0,
        postgres: Availability | None = None,
    ) -> None:
        if not 0 < deadline <= MAX_DEADLINE_SECONDS or not 0 < initial_interval <= max_interval:
            raise ValueError("need 0 < deadline <= 3600 and 0 < initial <= max interval")
        self.deadline = deadline
        self._initial = initial_interval
        self._max = max_interval
        self.postgres = postgres or Availability("postgres")
        self.retries = 0
        """Writes retried after an outage error (a metric)."""
        self.expired = 0
        """Writes given up at the deadline (a metric)."""

    async def run(self, write: Callable[[], Awaitable[T]]) -> T:
        """`await write()` until it does not fail with an outage, or the deadline passes."""
        # The monotonic clock, as `Availability` reads it (`back(tried)`).
        began = tried = time.monotonic()
        interval = self._initial
        while True:
            try:
                result = await write()
            except Exception as exc:
                if not is_outage(exc):
                    raise
                now = time.monotonic()
                left = self.deadline - (now - began)
                if left <= 0:
                    self.expired += 1
                    raise WriteDeadlineError(now - began, exc) from exc
                self.postgres.lost(exc)
                self.retries += 1
                # Half fixed, half random: spread the reconnects of many waiting writes.
                delay = min(interval / 2 + random.uniform(0, interval / 2), left)
                interval = min(interval * 2, self._max)
                paused = _PAUSED.get()
                if paused is not None:
                    paused(now - tried + delay)
                await asyncio.sleep(delay)
                tried = time.monotonic()
                continue
            self.postgres.back(tried)
            return result


class RetryingEmitter:
    """An Emitter whose writes outlast an outage (see `WriteRetry`)."""

    def __init__(self, inner: Emitter, writes: WriteRetry) -> None:
        self._inner = inner
        self._writes = writes

    async def emit(self, events: Sequence[Event]) -> int:
        return await self._writes.run(lambda: self._inner.emit(events))

"""`progress()`: an activity reports how far its current attempt is.

An attempt's `node:progress` events go out at most once per
`Limits.progress_min_interval_seconds`: a loop may call `progress()` on every item without
writing an event per item. A call inside the interval keeps only its value (the latest wins)
and returns at once; that value goes out when the interval is up, and at the latest before
the attempt's `node:completed` or `node:failed`.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import TYPE_CHECKING

from flowmaestro.events.catalogue.node import NodeProgressData
from flowmaestro.temporal.scope import current_attempt
from flowmaestro.waiting import wait_set

if TYPE_CHECKING:
    from collections.abc import Callable

    from flowmaestro.temporal.scope import AttemptScope


async def progress(percent: float, step: str | None = None) -> None:
    """Emit `node:progress` (0-100, clamped) for the current attempt's node, with an optional
    label of the step. Outside a tracked run's activity it does nothing."""
    scope = current_attempt()
    if scope is None:
        return
    if math.isnan(percent):
        raise ValueError("progress percent is NaN")
    data = NodeProgressData(
        node_id=scope.node_id, progress=min(max(percent, 0.0), 100.0), step=(step or "")[:200]
    )
    if scope.progress is None:
        scope.progress = ProgressReports(scope, scope.limits.progress_min_interval_seconds)
    await scope.progress.report(data)


class ProgressReports:
    """One attempt's progress events, at most one per `interval` seconds (the latest of the
    calls in between). `close()` sends what is pending; a send that failed in the background
    is raised by the next call, or by `close()`."""

    def __init__(
        self,
        scope: AttemptScope,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scope = scope
        self._interval = interval
        self._clock = clock
        self._sent_at = -math.inf
        self._latest: NodeProgressData | None = None
        self._later: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()

    async def report(self, data: NodeProgressData) -> None:
        self._forget_sent()
        wait = self._sent_at + self._interval - self._clock()
        if self._later is None and wait <= 0:
            await self._send(data)
            return
        self._latest = data
        if self._later is None:
            self._later = asyncio.create_task(self._send_later(wait))

    async def close(self) -> None:
        """Send the pending value now (before the attempt's end event)."""
        if self._later is not None:
            self._closing.set()  # the background send goes at once; never cut off midway
            await asyncio.wait({self._later})
            self._forget_sent()

    def _forget_sent(self) -> None:
        """Forget a finished background send, raising its error if it failed."""
        later = self._later
        if later is None or not later.done():
            return
        self._later = None
        if (error := later.exception()) is not None:
            raise error

    async def _send_later(self, wait: float) -> None:
        await wait_set(self._closing, wait)
        if self._latest is not None:
            await self._send(self._latest)

    async def _send(self, data: NodeProgressData) -> None:
        self._latest = None
        self._sent_at = self._clock()
        scope = self._scope
        n = scope.next("progress")
        await scope.emitter.emit([scope.event((scope.attempt, n), data)])

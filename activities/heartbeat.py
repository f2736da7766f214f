"""Heartbeating for the whole of an activity, so waiting (for its node's work, or for the
database during an outage) never looks like a dead worker, while a dead worker's attempt is
noticed after the heartbeat timeout rather than the (long) start-to-close timeout."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from temporalio import activity

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable


@contextlib.asynccontextmanager
async def heartbeating(details: Callable[[], tuple[Any, ...]] = tuple) -> AsyncIterator[None]:
    """Heartbeat `details()` every third of the activity's heartbeat timeout for the block
    (nothing when it has none). Heartbeats are also how the activity hears of a cancel."""
    timeout = activity.info().heartbeat_timeout
    if not timeout:
        yield
        return
    interval = max(timeout.total_seconds() / 3, 0.05)

    async def beat() -> None:
        while True:
            activity.heartbeat(*details())
            await asyncio.sleep(interval)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

"""Waiting with a timeout in loops that run until cancelled.

Python 3.11's `asyncio.wait_for` returns the result when a cancel arrives just as the awaited
thing completes: the cancel is swallowed, and a loop built on it goes round again instead of
ending (a gateway's shutdown hung on one such loop, 1 run in 3). `asyncio.timeout` has no such
window, so every loop here waits through it.
"""

from __future__ import annotations

import asyncio


async def wait_set(event: asyncio.Event, timeout: float) -> bool:
    """Whether `event` is set within `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True

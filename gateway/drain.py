"""A draining gateway's sockets closed one by one over a window, in random order, so their
clients' reconnects reach the other gateways spread over it rather than in one herd."""

from __future__ import annotations

import asyncio
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


async def spread(
    sids: list[str],
    close: Callable[[str], Awaitable[None]],
    seconds: float,
    *,
    shuffle: Callable[[list[str]], None] = random.shuffle,
) -> None:
    """`close` each of `sids`, the i-th at i * seconds / len(sids) from now."""
    if not sids:
        return
    shuffle(sids)
    loop = asyncio.get_running_loop()
    start = loop.time()
    step = seconds / len(sids)
    for index, sid in enumerate(sids):
        # A schedule, not a wait for an event: each close has its moment.
        delay = start + index * step - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await close(sid)

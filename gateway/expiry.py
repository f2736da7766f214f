"""Each socket's authorization ends at its token's `exp`: `auth:expiring` a while before,
then `auth:expired` and a disconnect, unless `auth:refresh` has moved `exp` on. One timer
handle per socket (no task), so an idle socket stays small."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable


class TokenClock:
    def __init__(
        self,
        warning: float,
        warn: Callable[[str, int], Awaitable[None]],
        expire: Callable[[str], Awaitable[None]],
    ) -> None:
        self._warning = warning
        self._warn = warn
        self._expire = expire
        self._timers: dict[str, asyncio.Handle] = {}
        self._running: set[asyncio.Task[None]] = set()

    def set(self, sid: str, exp: float) -> None:
        """(Re)start `sid`'s clock for a token expiring at `exp` (seconds since the epoch)."""
        self.stop(sid)
        loop = asyncio.get_running_loop()
        left = exp - time.time()
        if left > self._warning:
            self._timers[sid] = loop.call_later(left - self._warning, self._warned, sid, exp)
        else:  # a token shorter than the warning is warned about at once
            self._timers[sid] = loop.call_soon(self._warned, sid, exp)

    def stop(self, sid: str) -> None:
        handle = self._timers.pop(sid, None)
        if handle is not None:
            handle.cancel()

    def _warned(self, sid: str, exp: float) -> None:
        self._run(self._warn(sid, int(exp)))
        self._timers[sid] = asyncio.get_running_loop().call_later(
            max(0.0, exp - time.time()), self._expired, sid
        )

    def _expired(self, sid: str) -> None:
        del self._timers[sid]
        self._run(self._expire(sid))

    def _run(self, action: Awaitable[None]) -> None:
        task = asyncio.ensure_future(action)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

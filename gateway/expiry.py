"""Each socket's authorization ends at its token's `exp`: `auth:expiring` a while before,
then `auth:expired` and a disconnect, unless `auth:refresh` has moved `exp` on. One timer
handle per socket (no task), so an idle socket stays small. Time is the gateway's `Clock`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from flowmaestro.gateway.clock import Clock, Timer


class TokenClock:
    def __init__(
        self,
        clock: Clock,
        warning: float,
        warn: Callable[[str, int], Awaitable[None]],
        expire: Callable[[str], Awaitable[None]],
    ) -> None:
        self._clock = clock
        self._warning = warning
        self._warn = warn
        self._expire = expire
        self._timers: dict[str, Timer] = {}
        self._running: set[asyncio.Task[None]] = set()

    def set(self, sid: str, exp: float) -> None:
        """(Re)start `sid`'s clock for a token expiring at `exp` (seconds since the epoch)."""
        self.stop(sid)
        # A token shorter than the warning is warned about at once.
        self._timers[sid] = self._clock.call_at(exp - self._warning, self._warned, sid, exp)

    def stop(self, sid: str) -> None:
        handle = self._timers.pop(sid, None)
        if handle is not None:
            handle.cancel()

    def _warned(self, sid: str, exp: float) -> None:
        self._run(self._warn(sid, int(exp)))
        self._timers[sid] = self._clock.call_at(exp, self._expired, sid)

    def _expired(self, sid: str) -> None:
        del self._timers[sid]
        self._run(self._expire(sid))

    def _run(self, action: Awaitable[None]) -> None:
        task = asyncio.ensure_future(action)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

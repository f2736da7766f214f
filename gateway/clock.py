"""The gateway's clock: the wall time, and timers at a wall time (a token's `exp`). Taken
through constructors, so a test moves time on instead of waiting for it."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch."""
        ...

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> Timer:
        """`callback(*args)` on the running loop at `when` (seconds since the epoch); at once
        when that has passed."""
        ...


class SystemClock:
    """The machine's clock; timers on the running loop."""

    def time(self) -> float:
        return time.time()

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> Timer:
        delay = max(0.0, when - time.time())
        return asyncio.get_running_loop().call_later(delay, callback, *args)

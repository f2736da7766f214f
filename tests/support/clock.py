"""A clock that moves only when the test moves it (the gateway's `Clock`), so a test of
token expiry advances time instead of waiting for it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(order=True)
class FakeTimer:
    when: float
    order: int
    callback: Callable[..., object] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """Starts at the real time now (real tokens are valid on it); `advance` moves it on and
    runs, on the loop and in time order, every timer it passes."""

    def __init__(self) -> None:
        self.now = time.time()
        self._timers: list[FakeTimer] = []
        self._order = itertools.count()
        self._awaited: list[tuple[float, asyncio.Event]] = []

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> FakeTimer:
        timer = FakeTimer(when, next(self._order), callback, args)
        heapq.heappush(self._timers, timer)
        for at, set_ in self._awaited:
            if at == when:
                set_.set()
        self._run_due()
        return timer

    async def scheduled(self, when: float, timeout: float = 30) -> None:
        """Until a timer is set for `when`: the code under test has reacted to something."""
        if any(t.when == when and not t.cancelled for t in self._timers):
            return
        set_ = asyncio.Event()
        self._awaited.append((when, set_))
        try:
            async with asyncio.timeout(timeout):
                await set_.wait()
        finally:
            self._awaited.remove((when, set_))

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self._run_due()

    def _run_due(self) -> None:
        loop = asyncio.get_running_loop()
        while self._timers and self._timers[0].when <= self.now:
            timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                # Called soon, as a real timer's callback is: never inside the caller.
                loop.call_soon(self._fire, timer)

    @staticmethod
    def _fire(timer: FakeTimer) -> None:
        if not timer.cancelled:
            timer.callback(*timer.args)

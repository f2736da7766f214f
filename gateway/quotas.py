"""Per-user quotas on HTTP writes: a token bucket per user for starts, uploads, answers and
creations (429 `rate_limited` with Retry-After), and a cap on a user's unfinished executions
(429 `quota_exceeded`).

The buckets live in this gateway process: behind N gateways a user may write N times the
rate (each process protects itself; a shared Postgres counter would cost a write per
request). The running cap is counted in Postgres (the `executions` status), so it holds
across gateways, up to starts that race each other on different gateways. A user at the cap
first has the ends of executions closed outside our code written (gateway/closed_outside.py),
at most every RECHECK seconds, so a workflow terminated with the Temporal CLI frees its slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

from flowmaestro.gateway.closed_outside import end_closed_outside
from flowmaestro.gateway.errors import GatewayError, RateLimitedError
from flowmaestro.gateway.transport import TokenBucket

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    import asyncpg
    from temporalio.client import Client

    from flowmaestro.security import Limits

_UNFINISHED = """
SELECT count(*) FROM executions
WHERE user_id = $1 AND status IN ('pending', 'running', 'waiting')
"""
# A capped user's starts ask Temporal about their executions at most this often.
RECHECK = 2.0
# Past this many users' buckets, the full ones (idle users) are dropped.
_SWEEP_AT = 10_000


class Quotas:
    def __init__(
        self,
        pool: asyncpg.Pool,
        limits: Limits,
        temporal: Client,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._temporal = temporal
        self._clock = clock
        self._rechecked: dict[str, float] = {}
        self._rate = limits.user_writes_per_second
        self._burst = limits.user_write_burst
        self._max_running = limits.max_running_executions
        self._buckets: dict[str, TokenBucket] = {}
        self._starting: dict[str, asyncio.Lock] = {}

    def spend(self, user_id: str) -> None:
        """One write by `user_id`, or RateLimitedError."""
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= _SWEEP_AT:
                self._buckets = {u: b for u, b in self._buckets.items() if not b.full()}
            bucket = self._buckets[user_id] = TokenBucket(self._rate, self._burst)
        if not bucket.take():
            wait = bucket.retry_after()
            raise RateLimitedError(
                f"too many writes; retry in {wait:.1f} s",
                wait,
                {"limit": "user_writes_per_second", "maximum": self._rate},
            )

    @contextlib.asynccontextmanager
    async def starting(self, user_id: str) -> AsyncIterator[None]:
        """Hold for the start of one execution of `user_id`: quota_exceeded when the user
        has `max_running_executions` unfinished (one start at a time per user here, so this
        gateway's concurrent starts cannot all pass the count)."""
        lock = self._starting.setdefault(user_id, asyncio.Lock())
        try:
            async with lock:
                running: int = await self._pool.fetchval(_UNFINISHED, user_id)
                if running >= self._max_running and await self._recheck(user_id):
                    running = await self._pool.fetchval(_UNFINISHED, user_id)
                if running >= self._max_running:
                    raise GatewayError(
                        "quota_exceeded",
                        f"{running} of your executions are unfinished, the most allowed at once;"
                        " start more when some end",
                        {
                            "limit": "max_running_executions",
                            "maximum": self._max_running,
                            "running": running,
                        },
                    )
                yield
        finally:
            if not lock.locked() and self._starting.get(user_id) is lock:
                del self._starting[user_id]

    async def _recheck(self, user_id: str) -> bool:
        """Whether executions of `user_id` closed outside our code were found ended."""
        now = self._clock()
        if now - self._rechecked.get(user_id, -RECHECK) < RECHECK:
            return False
        if len(self._rechecked) >= _SWEEP_AT:
            self._rechecked = {u: t for u, t in self._rechecked.items() if now - t < RECHECK}
        self._rechecked[user_id] = now
        ended = await end_closed_outside(self._pool, self._temporal, user_id, self._max_running)
        return ended > 0

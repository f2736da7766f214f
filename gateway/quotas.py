"""Per-user quotas on writes: a rate for starts, uploads, answers and creations (429
`rate_limited` with Retry-After), and a cap on a user's unfinished executions (429
`quota_exceeded`).

The write rate is a budget of the one per-user mechanism (gateway/budgets.py), a token
bucket in Postgres, so it holds across every gateway process and host: behind N processes a
user still writes at the rate, not N times it. The running cap is counted in Postgres (the
`executions` status) under a per-user advisory lock held from the count until the start is
registered, so starts racing on different gateway processes and hosts cannot all pass the
same count. A user at the cap
first has the ends of executions closed outside our code written (gateway/closed_outside.py),
at most every RECHECK seconds, so a workflow terminated with the Temporal CLI frees its slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import asyncpg

from flowmaestro.gateway.closed_outside import end_closed_outside
from flowmaestro.gateway.errors import GatewayError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from temporalio.client import Client

    from flowmaestro.events.outbox.connection import Connection
    from flowmaestro.gateway.budgets import Budgets, Rate
    from flowmaestro.security import Limits

_UNFINISHED = """
SELECT count(*) FROM executions
WHERE user_id = $1 AND status IN ('pending', 'running', 'waiting')
"""
# pg_advisory_lock(START_LOCK, hashtext(user_id)): one start of a user at a time, across every
# gateway ("FMST"; users whose ids hash alike merely wait for each other).
START_LOCK = 0x464D5354
_TRY_LOCK = "SELECT pg_try_advisory_lock($1, hashtext($2))"
_UNLOCK = "SELECT pg_advisory_unlock($1, hashtext($2))"
# Polled, never waited for inside pg_advisory_lock: a blocked statement holds a snapshot
# (vacuum's horizon, every CREATE INDEX CONCURRENTLY) for as long as it waits.
_LOCK_POLL_FIRST, _LOCK_POLL_MAX = 0.002, 0.05
# A capped user's starts ask Temporal about their executions at most this often.
RECHECK = 2.0
# Past this many users' recheck times, the old ones are dropped.
_SWEEP_AT = 10_000


class Quotas:
    def __init__(
        self,
        pool: asyncpg.Pool,
        limits: Limits,
        temporal: Client,
        budgets: Budgets,
        writes: Rate,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pool = pool
        self._budgets = budgets
        self._writes = writes
        self._temporal = temporal
        self._clock = clock
        self._rechecked: dict[str, float] = {}
        self._max_running = limits.max_running_executions
        self._starting: dict[str, asyncio.Lock] = {}

    async def spend(self, user_id: str) -> None:
        """One write by `user_id`, or RateLimitedError (counted across every process)."""
        await self._budgets.spend(user_id, self._writes)

    @contextlib.asynccontextmanager
    async def starting(self, user_id: str) -> AsyncIterator[Connection]:
        """Hold for the start of one execution of `user_id`, yielding the connection to
        register it on: quota_exceeded when the user has `max_running_executions`
        unfinished. One start at a time per user across every gateway (an advisory lock on
        that connection, from the count until the start is registered), so concurrent starts
        cannot all pass the count; a user's starts queue in the process first, so each
        process holds at most one connection per user here."""
        lock = self._starting.setdefault(user_id, asyncio.Lock())
        try:
            async with lock:
                async with self._counted(user_id) as (con, running):
                    if running < self._max_running:
                        yield con
                        return
                    if not self._recheck_due(user_id):
                        raise self._exceeded(running)
                # Outside the lock's connection: the recheck needs connections of its own,
                # and a start holding one while waiting for another could starve the pool.
                await end_closed_outside(self._pool, self._temporal, user_id, self._max_running)
                async with self._counted(user_id) as (con, running):
                    if running >= self._max_running:
                        raise self._exceeded(running)
                    yield con
        finally:
            if not lock.locked() and self._starting.get(user_id) is lock:
                del self._starting[user_id]

    @contextlib.asynccontextmanager
    async def _counted(self, user_id: str) -> AsyncIterator[tuple[Connection, int]]:
        """A connection holding the user's start lock, and their unfinished count under it."""
        async with self._pool.acquire() as con:
            delay = _LOCK_POLL_FIRST
            while not await con.fetchval(_TRY_LOCK, START_LOCK, user_id):
                await asyncio.sleep(delay)
                delay = min(delay * 2, _LOCK_POLL_MAX)
            try:
                yield con, await con.fetchval(_UNFINISHED, user_id)
            finally:
                # Should this fail (the session lost), nothing stays held: the lock ends with
                # its session, and the pool resets what it takes back.
                with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    await con.execute(_UNLOCK, START_LOCK, user_id)

    def _exceeded(self, running: int) -> GatewayError:
        return GatewayError(
            "quota_exceeded",
            f"{running} of your executions are unfinished, the most allowed at once;"
            " start more when some end",
            {"limit": "max_running_executions", "maximum": self._max_running, "running": running},
        )

    def _recheck_due(self, user_id: str) -> bool:
        """Whether a capped user's executions may be rechecked now (at most every RECHECK s);
        counts as the recheck when it is."""
        now = self._clock()
        if now - self._rechecked.get(user_id, -RECHECK) < RECHECK:
            return False
        if len(self._rechecked) >= _SWEEP_AT:
            self._rechecked = {u: t for u, t in self._rechecked.items() if now - t < RECHECK}
        self._rechecked[user_id] = now
        return True

"""What the per-user budgets (gateway/budgets.py) cost a request, against one `SELECT 1`
round trip on the same pool (the least any Postgres-backed check could cost).

Cases, each the median time of one operation over rounds, with 10,000 other users' shares
and buckets already in the tables (two gateway leases, as two processes would hold):
- `hold` takes one socket of a user (one round trip: the user's row locked, every live
  share summed);
- `release` is a disconnect's give-back, written in batches (one statement per 100 here);
- `hold again before written`: a reconnect storm reusing what was given back (no trip);
- `spend` a read within the budget (one round trip), `spend refused` once the bucket is
  empty (remembered in the process: no trip).
Nothing here runs per event delivered: the fan-out has no budget code.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

import asyncpg

from bench.harness import Row, Stats
from bench.support import bench_database
from flowmaestro.gateway.budgets import Hold, Rate, UserBudgets
from flowmaestro.gateway.errors import RateLimitedError
from flowmaestro.gateway.lease import GatewayLease

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

SOCKETS = Hold("user_max_sockets", 1_000_000, "open sockets")
READS = Rate("user_reads_per_second", 1e-6, 1e9, "read requests")
EMPTY = Rate("user_reads_per_second", 1e-6, 1.0, "read requests")
OTHERS = 10_000


async def _timed(operation: Callable[[], Awaitable[object]], count: int) -> list[float]:
    """Milliseconds per call of `operation`, one sample per call."""
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await operation()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


async def _populate(pool: asyncpg.Pool, budgets: UserBudgets, other: UserBudgets) -> None:
    for i in range(OTHERS):
        await (budgets if i % 2 else other).hold(f"user{i}", SOCKETS, 3)
        await budgets.spend(f"user{i}", READS)
    await pool.execute("ANALYZE user_budgets; ANALYZE budget_holds")


async def run(quick: bool) -> list[Row]:
    count = 200 if quick else 2000
    rows: list[Row] = []
    async with bench_database() as dsn, asyncpg.create_pool(dsn, min_size=2, max_size=4) as pool:
        lease, other_lease = GatewayLease(pool, 60), GatewayLease(pool, 60)
        await lease.renew()
        await other_lease.renew()
        budgets, other = UserBudgets(pool, lease), UserBudgets(pool, other_lease)
        await _populate(pool, budgets, other)
        baseline = Stats.of(await _timed(lambda: pool.fetchval("SELECT 1"), count))

        def row(case: str, samples: list[float]) -> Row:
            return Row(case, "time per call", "ms", Stats.of(samples), baseline, "SELECT 1")

        rows.append(row("hold", await _timed(lambda: budgets.hold("alice", SOCKETS), count)))
        releases = []
        for _ in range(count // 200):
            start = time.perf_counter()
            for _ in range(100):
                budgets.release("alice", SOCKETS)
            await budgets.flush()
            releases.append((time.perf_counter() - start) * 1000 / 100)
        rows.append(row("release (batches of 100)", releases))
        for _ in range(count // 2):
            budgets.release("alice", SOCKETS)
        rows.append(
            row(
                "hold again before written",
                await _timed(lambda: budgets.hold("alice", SOCKETS), count // 2),
            )
        )
        rows.append(row("spend", await _timed(lambda: budgets.spend("alice", READS), count)))
        await budgets.spend("bob", EMPTY)

        async def refused() -> None:
            with contextlib.suppress(RateLimitedError):
                await budgets.spend("bob", EMPTY)

        rows.append(row("spend refused", await _timed(refused, count)))
    return rows

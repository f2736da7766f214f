"""GET /api/executions over 100,000 executions: one keyset page vs the same page by OFFSET.

The statement is the gateway's own (`gateway.listing.listing_query`), run straight on the
pool (no HTTP), for the first page and for pages deep into one user's 60,000 executions,
unfiltered, by status and by flow. The baseline fetches the same rows with LIMIT/OFFSET
(ordered on the same index): the cost a cursor saves grows with the depth.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

import asyncpg

from bench.harness import Row, Stats
from bench.support import bench_database
from flowmaestro.gateway.auth import Principal
from flowmaestro.gateway.listing import Cursor, Filters, listing_query

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
STATUSES = ["running", "waiting", "completed", "failed", "cancelled", "pending"]
HEAVY = "heavy"
VIEWER = Principal(HEAVY, math.inf)
PAGE = 100

# 60% of the executions belong to `heavy`, the rest to 50 users; six statuses, seven flows;
# three at a time share a creation time (the cursor breaks ties by id).
_GENERATE = """
INSERT INTO executions (id, user_id, workflow_id, status, created_at, updated_at)
SELECT 'ex_' || lpad(n::text, 7, '0'),
       CASE WHEN n % 5 < 3 THEN 'heavy' ELSE 'user' || (n % 50) END,
       'flow' || (n % 7),
       ($2::text[])[1 + n % 6],
       $1::timestamptz + make_interval(mins => n / 3),
       $1::timestamptz + make_interval(mins => n / 3)
FROM generate_series(1, $3) AS n
"""


async def generate_executions(pool: asyncpg.Pool, count: int) -> None:
    """`count` executions as above, analysed."""
    await pool.execute(_GENERATE, EPOCH, STATUSES, count)
    await pool.execute("ANALYZE executions")


async def cursor_at(pool: asyncpg.Pool, viewer: Principal, filters: Filters, offset: int) -> Cursor:
    """The cursor a client holds after `offset` rows of the listing."""
    sql, args = listing_query(viewer, filters, None, offset)
    rows = await pool.fetch(sql, *args)
    last = rows[offset - 1]
    return Cursor(last["created_at"], last["id"])


def _offset_query(viewer: Principal, filters: Filters, offset: int) -> tuple[str, list[object]]:
    sql, args = listing_query(viewer, filters, None, PAGE)
    return f"{sql} OFFSET {offset}", args


async def _time(pool: asyncpg.Pool, sql: str, args: list[object], repeat: int) -> list[float]:
    samples = []
    async with pool.acquire() as con:
        statement = await con.prepare(sql)
        await statement.fetch(*args)  # warm: plan and buffers
        for _ in range(repeat):
            start = time.perf_counter()
            await statement.fetch(*args)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


async def run(quick: bool) -> list[Row]:
    total = 100_000
    repeat = 20 if quick else 100
    cases = {
        "all": Filters(),
        "status=completed": Filters(status="completed"),
        "flow=flow3": Filters(flow="flow3"),
    }
    rows: list[Row] = []
    async with bench_database() as dsn, asyncpg.create_pool(dsn, min_size=1, max_size=2) as pool:
        await generate_executions(pool, total)
        for name, filters in cases.items():
            matching = await pool.fetchval(
                "SELECT count(*) FROM executions WHERE user_id = $1"
                + (" AND status = $2" if filters.status else "")
                + (" AND workflow_id = $2" if filters.flow else ""),
                HEAVY,
                *([filters.status] if filters.status else []),
                *([filters.flow] if filters.flow else []),
            )
            for depth in (0, matching // 2, matching - PAGE - 1):
                cursor = await cursor_at(pool, VIEWER, filters, depth) if depth else None
                sql, args = listing_query(VIEWER, filters, cursor, PAGE)
                ours = await _time(pool, sql, args, repeat)
                offset_sql, offset_args = _offset_query(VIEWER, filters, depth)
                baseline = await _time(pool, offset_sql, offset_args, repeat)
                rows.append(
                    Row(
                        f"{name}, {'first page' if not depth else f'after {depth:,}'}",
                        f"page of {PAGE}",
                        "ms",
                        Stats.of(ours),
                        Stats.of(baseline),
                        "LIMIT/OFFSET",
                    )
                )
    return rows

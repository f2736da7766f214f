"""Outbox retention at scale: today's `flowmaestro prune` (one DELETE of the old rows and
their channel rows) against dropping whole position-range partitions (the layout retention
should move to), on the same N events (10 million; --quick: 1 million) of which the oldest
70 % go. Measured in the same run: the prune's time, the two tables' size right after it and
after a VACUUM (what DELETE leaves behind is bloat: VACUUM makes the space reusable but cannot
give it back, the freed pages being at the start of the heap), and the cost of writing and
tailing with N events stored against an empty outbox.

The partitioned layout is a copy of the outbox's two tables in this benchmark only
(`bench_outbox`, `bench_channel_positions`, PARTITION BY RANGE (position), N/10 a partition);
the production schema is not partitioned (docs/operations.md, Retention).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import asyncpg

from bench.harness import Row, Stats
from bench.outbox_emit import emit_ours, make_events
from bench.support import bench_database
from flowmaestro.events.outbox import OutboxReader, prune_before

DAYS = 10
KEEP = 0.3
EXECUTIONS = 1000
CHUNK = 500_000
PARTITIONS = 10
SMALL = 10_000

_FILL = """
INSERT INTO event_outbox (event_id, position, type, channels, envelope, created_at, sequenced_at)
SELECT md5(n::text)::uuid, n, 'node:progress',
       jsonb_build_array('user:bench', 'execution:ex_' || n % $3),
       jsonb_build_object(
           'id', md5(n::text)::uuid, 'type', 'node:progress', 'userId', 'bench',
           'executionId', 'ex_' || n % $3, 'workflowId', 'bench',
           'timestamp', $4::timestamptz + make_interval(secs => n * $5::float8),
           'data', jsonb_build_object('nodeId', 'n', 'progress', n % 101, 'step', 'step ' || n)),
       $4::timestamptz + make_interval(secs => n * $5::float8),
       $4::timestamptz + make_interval(secs => n * $5::float8)
FROM generate_series($1::bigint, $2::bigint) AS n
"""
_FILL_CHANNELS = """
INSERT INTO event_channel_positions (channel, position)
SELECT 'user:bench', n FROM generate_series($1::bigint, $2::bigint) AS n
UNION ALL
SELECT 'execution:ex_' || n % $3, n FROM generate_series($1::bigint, $2::bigint) AS n
"""
_SIZE = "SELECT pg_total_relation_size('event_outbox') + pg_total_relation_size('event_channel_positions')"
_PARTITIONED_SIZE = """
SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits
WHERE inhparent IN ('bench_outbox'::regclass, 'bench_channel_positions'::regclass)
"""


async def fill(con: asyncpg.Connection, count: int, start: datetime) -> None:
    step = DAYS * 86400 / count
    await con.execute(
        "INSERT INTO executions (id, user_id, workflow_id) "
        "SELECT 'ex_' || n, 'bench', 'bench' FROM generate_series(0, $1 - 1) AS n",
        EXECUTIONS,
    )
    for low in range(1, count + 1, CHUNK):
        high = min(count, low + CHUNK - 1)
        await con.execute(_FILL, low, high, EXECUTIONS, start, step)
        await con.execute(_FILL_CHANNELS, low, high, EXECUTIONS)
    await con.execute("UPDATE outbox_sequencer SET last_position = $1", count)
    await con.execute("VACUUM ANALYZE event_outbox, event_channel_positions")


async def partitioned_copy(con: asyncpg.Connection, count: int) -> None:
    """The same rows in tables partitioned by position range."""
    await con.execute(
        "CREATE TABLE bench_outbox (LIKE event_outbox INCLUDING DEFAULTS)"
        " PARTITION BY RANGE (position)"
    )
    await con.execute(
        "CREATE TABLE bench_channel_positions (channel text NOT NULL, position bigint NOT NULL,"
        " PRIMARY KEY (channel, position)) PARTITION BY RANGE (position)"
    )
    size = -(-count // PARTITIONS)
    for i in range(PARTITIONS):
        low, high = 1 + i * size, 1 + (i + 1) * size
        await con.execute(
            f"CREATE TABLE bench_outbox_{i} PARTITION OF bench_outbox"
            f" FOR VALUES FROM ({low}) TO ({high})"
        )
        await con.execute(
            f"CREATE TABLE bench_channel_positions_{i} PARTITION OF bench_channel_positions"
            f" FOR VALUES FROM ({low}) TO ({high})"
        )
    await con.execute(
        "INSERT INTO bench_outbox SELECT * FROM event_outbox WHERE position IS NOT NULL"
    )
    await con.execute("INSERT INTO bench_channel_positions SELECT * FROM event_channel_positions")
    # The outbox's own indexes, per partition.
    await con.execute("CREATE UNIQUE INDEX ON bench_outbox (position)")
    await con.execute("CREATE INDEX ON bench_outbox (event_id)")
    await con.execute("VACUUM ANALYZE bench_outbox, bench_channel_positions")


async def drop_partitions(con: asyncpg.Connection, through: int) -> int:
    """Drop every partition whose rows all lie at or below position `through`; the rows
    dropped (counted first, for the table)."""
    dropped = 0
    for i in range(PARTITIONS):
        highest = await con.fetchval(f"SELECT max(position) FROM bench_outbox_{i}")
        if highest is None or highest > through:
            break
        dropped += await con.fetchval(f"SELECT count(*) FROM bench_outbox_{i}")
        began = time.perf_counter()
        await con.execute(f"DROP TABLE bench_outbox_{i}, bench_channel_positions_{i}")
        _DROPPING.append(time.perf_counter() - began)
    return dropped


_DROPPING: list[float] = []
"""Seconds each DROP took (the prune's own cost, without counting rows for the table)."""


async def emit_rate(dsn: str, events: int) -> float:
    async with asyncpg.create_pool(dsn, min_size=4, max_size=4) as pool:
        per_writer = [make_events(events // 4, w) for w in range(4)]
        return await emit_ours(pool, per_writer, 50)


async def tail_read(dsn: str, rounds: int) -> list[float]:
    """A tail's read of the newest 1000 events, ms."""
    samples = []
    async with asyncpg.create_pool(dsn, min_size=1, max_size=2) as pool:
        reader = OutboxReader(pool)
        head = await reader.head()
        for _ in range(rounds):
            start = time.perf_counter()
            await reader.read_after(max(0, head - 1000), limit=1000)
            samples.append((time.perf_counter() - start) * 1000)
    return samples


async def run(quick: bool) -> list[Row]:
    count = 1_000_000 if quick else 10_000_000
    label = f"{count // 1_000_000}M events"
    start = datetime.now(UTC) - timedelta(days=DAYS)
    cutoff = datetime.now(UTC) - timedelta(days=DAYS * KEEP)
    rows: list[Row] = []
    async with bench_database() as small, bench_database() as dsn:
        con = await asyncpg.connect(small)
        try:
            await fill(con, SMALL, start)
        finally:
            await con.close()
        small_rate = await emit_rate(small, 5000)
        small_tail = await tail_read(small, 20)
        con = await asyncpg.connect(dsn)
        try:
            began = time.perf_counter()
            await fill(con, count, start)
            fill_seconds = time.perf_counter() - began
            full_rate = await emit_rate(dsn, 5000)
            full_tail = await tail_read(dsn, 20)
            await partitioned_copy(con, count)
            before = float(await con.fetchval(_SIZE))

            began = time.perf_counter()
            deleted, through = await prune_before(con, cutoff)
            delete_seconds = time.perf_counter() - began
            after_delete = float(await con.fetchval(_SIZE))
            await con.execute("VACUUM event_outbox, event_channel_positions")
            after_vacuum = float(await con.fetchval(_SIZE))

            _DROPPING.clear()
            dropped = await drop_partitions(con, through)
            drop_seconds = sum(_DROPPING)
            after_drop = float(await con.fetchval(_PARTITIONED_SIZE))
        finally:
            await con.close()

    mb = 1024 * 1024

    def one(x: float) -> Stats:
        return Stats.of([x])

    rows.append(Row(f"fill {label}", "time", "s", one(fill_seconds)))
    rows.append(
        Row(
            f"prune {deleted:,} of {label}",
            "time",
            "s",
            one(delete_seconds),
            one(drop_seconds),
            f"drop {dropped:,} in partitions",
        )
    )
    rows.append(Row(f"{label}: both tables", "size before", "MB", one(before / mb)))
    rows.append(
        Row(
            "after prune: DELETE",
            "size",
            "MB",
            one(after_delete / mb),
            one(after_drop / mb),
            "partitions dropped",
        )
    )
    rows.append(
        Row(
            "after VACUUM: DELETE",
            "size",
            "MB",
            one(after_vacuum / mb),
            one(after_drop / mb),
            "partitions dropped",
        )
    )
    rows.append(
        Row(
            f"emit 5000 events into {label}",
            "rate",
            "events/s",
            one(full_rate),
            one(small_rate),
            "10k events stored",
        )
    )
    rows.append(
        Row(
            f"tail read 1000 of {label}",
            "latency",
            "ms",
            Stats.of(full_tail),
            Stats.of(small_tail),
            "10k events stored",
        )
    )
    return rows

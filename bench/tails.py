"""What each gateway's outbox tail costs Postgres, and what the wake-ups of migration 0021 save:
the same load with 1, 2, 4 and 8 tail processes (each as a gateway process runs it), for
the previous release's wake-ups and for today's.

- previous: every emitter commit NOTIFYs (and Postgres signals every listening backend of the
  database, the tails included, whatever their channel); the sequencer sends only the head,
  so every tail reads the page after each wake-up.
- now: emitters NOTIFY only while the sequencer sleeps (under load it stays awake); small
  batches travel in the sequencer's NOTIFY, so tails skip the read.

Load: 8 writers at once, each committing transactions of 5 events. Measured: CPU seconds of
every Postgres backend of the bench database (writers, the sequencer, the tails) and of the
tails themselves, per 1,000 events; and, at 1,000 single-event commits per second, each
event's write-to-tail latency (the row's insert time to its page arriving in every tail) at
p50 and p99. Ratios: now against previous, same tail count, same run.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import sys
from typing import TYPE_CHECKING

import asyncpg

from bench.delivery import progress
from bench.harness import Row, Stats, percentile
from bench.outbox_latency import paced
from bench.scaleout import backends, cpu_seconds
from bench.support import bench_database, sequencer_process
from flowmaestro.events.outbox import PostgresEmitter, write_events

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

WRITERS = 8
PER_TRANSACTION = 5
LATENCY_RATE = 1000  # single-event commits per second


class Tail:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.position = 0
        self.pages: list[tuple[int, float]] = []
        """(last position, wall clock time) of every page, as the tail printed them."""
        self.moved = asyncio.Event()

    async def follow(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            position, at = line.split()
            self.position = int(position)
            self.pages.append((self.position, float(at)))
            self.moved.set()

    async def reached(self, position: int) -> None:
        while self.position < position:
            self.moved.clear()
            await asyncio.wait_for(self.moved.wait(), 120)

    def arrival(self, position: int) -> float:
        """When the page holding `position` arrived."""
        i = bisect.bisect_left(self.pages, (position, 0.0))
        return self.pages[i][1]


@contextlib.asynccontextmanager
async def tails(
    dsn: str, n: int, broker: tuple[str, str] | None = None
) -> AsyncIterator[list[Tail]]:
    """`n` tail processes (with `broker`: (URL, channel), gateways' brokered feeds)."""
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench._follower",
            dsn,
            *(broker or ()),
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(n)
    ]
    started = []
    try:
        for proc in procs:
            assert proc.stdout is not None
            if (await asyncio.wait_for(proc.stdout.readline(), 300)).strip() != b"ready":
                raise RuntimeError("a tail did not start")
            started.append(Tail(proc))
        followers = [asyncio.create_task(t.follow()) for t in started]
        yield started
        for f in followers:
            f.cancel()
    finally:
        for proc in procs:
            proc.terminate()
            await proc.wait()


async def caught_up(pool: asyncpg.Pool, running: list[Tail]) -> None:
    """Every tail has read every row (the sequencer may still be numbering the end)."""
    while True:
        state = await pool.fetchrow(
            "SELECT last_position, (SELECT count(*) FROM event_outbox) FROM outbox_sequencer"
        )
        assert state is not None
        head, rows = state
        if head == rows:
            break
        await asyncio.sleep(0.05)  # a benchmark's settle, not a test's wait
    await asyncio.gather(*(t.reached(head) for t in running))


async def cost(pool: asyncpg.Pool, running: list[Tail], transactions: int) -> tuple[float, float]:
    """Postgres's and the tails' CPU seconds per 1,000 events of the concurrent load."""
    pids, tail_pids = await backends(pool), [t.proc.pid for t in running]
    before, before_tails = cpu_seconds(pids), cpu_seconds(tail_pids)

    async def writer(w: int) -> None:
        for i in range(transactions):
            async with pool.acquire() as con, con.transaction():
                await write_events(
                    con,
                    [progress(f"w{w}", i * PER_TRANSACTION + k) for k in range(PER_TRANSACTION)],
                )

    await asyncio.gather(*(writer(w) for w in range(WRITERS)))
    await caught_up(pool, running)
    total = WRITERS * transactions * PER_TRANSACTION / 1000
    return (cpu_seconds(pids) - before) / total, (cpu_seconds(tail_pids) - before_tails) / total


async def latency(pool: asyncpg.Pool, running: list[Tail], seconds: float) -> list[float]:
    """Write-to-tail milliseconds of every event in every tail, from the row's insert time
    (Postgres's clock, the gateway's own metric start): the writer's coroutine resumes after
    COMMIT too late under this load to time it."""
    emitter = PostgresEmitter(pool)
    sent = iter(range(10**9))
    start = int(await pool.fetchval("SELECT last_position FROM outbox_sequencer"))

    async def send() -> None:
        await emitter.emit([progress("lat", next(sent))])

    await paced(send, seconds, LATENCY_RATE)
    await caught_up(pool, running)
    rows = await pool.fetch(
        "SELECT position, extract(epoch FROM created_at)::float8 FROM event_outbox"
        " WHERE position > $1",
        start,
    )
    return [
        max(0.0, tail.arrival(position) - written) * 1000
        for position, written in rows
        for tail in running
    ]


async def run(quick: bool) -> list[Row]:
    transactions = 50 if quick else 250
    seconds = 1.0 if quick else 3.0
    measured: dict[tuple[str, int], tuple[float, float, float, float]] = {}
    for design in ("previous", "now"):
        async with (
            bench_database() as dsn,
            sequencer_process(dsn, previous=design == "previous"),
            asyncpg.create_pool(dsn, min_size=WRITERS + 4, max_size=WRITERS + 4) as pool,
        ):
            for n in (1, 2, 4, 8):
                async with tails(dsn, n) as running:
                    pg, own = await cost(pool, running, transactions)
                    lat = await latency(pool, running, seconds)
                    measured[design, n] = (pg, own, percentile(lat, 50), percentile(lat, 99))
    rows: list[Row] = []
    metrics = (
        ("Postgres CPU per 1k events", "s"),
        ("tails' CPU per 1k events", "s"),
        (f"write to tail p50, {LATENCY_RATE:,} commits/s", "ms"),
        (f"write to tail p99, {LATENCY_RATE:,} commits/s", "ms"),
    )
    for n in (1, 2, 4, 8):
        case = f"{n} tail{'s' if n > 1 else ''}"
        for i, (metric, unit) in enumerate(metrics):
            rows.append(
                Row(
                    case,
                    metric,
                    unit,
                    Stats.of([measured["now", n][i]]),
                    Stats.of([measured["previous", n][i]]),
                    "previous wake-ups",
                )
            )
    return rows

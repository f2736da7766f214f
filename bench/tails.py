"""What each gateway's outbox tail costs Postgres: the same load (transactions of 10 events,
written one after another) with 1, 2, 4 and 8 tail processes (each as a gateway process runs
it: woken by the sequencer's NOTIFY, then one read of the page after its position).

CPU seconds of every Postgres backend of the bench database (writers, the sequencer, the
tails) per 1,000 events, against the single tail of the same run; and the tails' own CPU.
This table is the evidence for the per-process tail of `flowmaestro gateway --workers`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING

import asyncpg

from bench.delivery import progress
from bench.harness import Row, Stats
from bench.scaleout import backends, cpu_seconds
from bench.support import bench_database, sequencer_process
from events.outbox import write_events

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


class Tail:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.position = 0
        self.moved = asyncio.Event()

    async def follow(self) -> None:
        assert self.proc.stdout is not None
        async for line in self.proc.stdout:
            self.position = int(line)
            self.moved.set()

    async def reached(self, position: int) -> None:
        while self.position < position:
            self.moved.clear()
            await asyncio.wait_for(self.moved.wait(), 120)


@contextlib.asynccontextmanager
async def tails(dsn: str, n: int) -> AsyncIterator[list[Tail]]:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench._delivery_servers",
            "tail",
            dsn,
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(n)
    ]
    started = []
    try:
        for proc in procs:
            assert proc.stdout is not None
            if (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() != b"ready":
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


async def run(quick: bool) -> list[Row]:
    transactions = 200 if quick else 1000
    per = 10
    rows: list[Row] = []
    results: dict[int, tuple[float, float]] = {}
    async with (
        bench_database() as dsn,
        sequencer_process(dsn),
        asyncpg.create_pool(dsn, min_size=1, max_size=1) as pool,
    ):
        for n in (1, 2, 4, 8):
            async with tails(dsn, n) as running:
                pids = await backends(pool)
                tail_pids = [t.proc.pid for t in running]
                before, before_tails = cpu_seconds(pids), cpu_seconds(tail_pids)
                for i in range(transactions):
                    async with pool.acquire() as con:
                        await write_events(
                            con, [progress("bench", i * per + k) for k in range(per)]
                        )
                head = int(await pool.fetchval("SELECT last_position FROM outbox_sequencer"))
                total = transactions * per
                # Every tail has read it all (the sequencer may still be numbering the end).
                while head < int(await pool.fetchval("SELECT count(*) FROM event_outbox")):
                    await asyncio.sleep(0.05)  # a benchmark's settle, not a test's wait
                    head = int(await pool.fetchval("SELECT last_position FROM outbox_sequencer"))
                await asyncio.gather(*(t.reached(head) for t in running))
                pg = (cpu_seconds(pids) - before) / total * 1000
                own = (cpu_seconds(tail_pids) - before_tails) / total * 1000
                results[n] = (pg, own)
        for n, (pg, own) in results.items():
            base = None if n == 1 else Stats.of([results[1][0]])
            rows.append(
                Row(
                    f"{n} tail{'s' if n > 1 else ''}",
                    "Postgres CPU per 1k events",
                    "s",
                    Stats.of([pg]),
                    base,
                    "1 tail" if base else None,
                )
            )
            rows.append(
                Row(
                    f"{n} tail{'s' if n > 1 else ''}",
                    "tails' CPU per 1k events",
                    "s",
                    Stats.of([own]),
                    None if n == 1 else Stats.of([results[1][1]]),
                    None if n == 1 else "1 tail",
                )
            )
    return rows

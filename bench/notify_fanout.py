"""What one NOTIFY costs the other listeners of a database: Postgres signals every backend
that LISTENs in the database on every NOTIFY, whatever its channel.

N idle connections LISTEN on a channel nobody notifies (as each gateway process's tail and
presence listener do); one writer commits 5,000 statements that NOTIFY another channel,
against 5,000 that do not (`SELECT 1`). CPU seconds per 1,000 commits of the listeners'
backends and of the writer's. The evidence for migration 0021 (emitters NOTIFY only while
the sequencer sleeps).
"""

from __future__ import annotations

import asyncio

import asyncpg

from bench.harness import Row, Stats
from bench.scaleout import cpu_seconds
from bench.support import bench_database

COMMITS = 5000


async def measure(dsn: str, listeners: int, notify: bool) -> tuple[float, float]:
    idle = [await asyncpg.connect(dsn) for _ in range(listeners)]
    try:
        for con in idle:
            await con.add_listener("bench_nobody_notifies", lambda *_: None)
        writer = await asyncpg.connect(dsn)
        try:
            pids = [con.get_server_pid() for con in idle]
            own = [writer.get_server_pid()]
            before, before_own = cpu_seconds(pids), cpu_seconds(own)
            query = "SELECT pg_notify('bench_other', '')" if notify else "SELECT 1"
            for _ in range(COMMITS):
                await writer.execute(query)
            # Let the listeners' backends finish reading the queue (a benchmark's settle).
            await asyncio.sleep(0.5)
            per = COMMITS / 1000
            return (cpu_seconds(pids) - before) / per, (cpu_seconds(own) - before_own) / per
        finally:
            await writer.close()
    finally:
        for con in idle:
            await con.close()


async def run(quick: bool) -> list[Row]:
    rounds = 1 if quick else 3
    rows: list[Row] = []
    async with bench_database() as dsn:
        for listeners in (0, 8, 16):
            got: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
            for _ in range(rounds):
                for notify in (False, True):
                    got[notify].append(await measure(dsn, listeners, notify))
            for i, whose in enumerate(("listeners'", "writer's")):
                if whose == "listeners'" and listeners == 0:
                    continue
                rows.append(
                    Row(
                        f"{listeners} idle listeners",
                        f"{whose} backend CPU per 1k commits",
                        "s",
                        Stats.of([g[i] for g in got[True]]),
                        Stats.of([g[i] for g in got[False]]),
                        "commits without NOTIFY",
                    )
                )
    return rows

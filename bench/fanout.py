"""Fan-out past one Postgres: 1, 4, 16 and 32 gateway processes following the outbox, each
tailing Postgres (LISTEN, the design without a broker) against each taking batches from a
broker (NATS core, Redis pub/sub) that the sequencer publishes to, in one run.

Each process runs what a gateway process runs to follow the outbox (`OutboxReader.pages`, or
`BrokeredFeed` over the broker) and prints every page's last position and arrival time.
Measured, as in `bench tails`: CPU seconds of every Postgres backend of the bench database
(writers, the sequencer, the tails' or feeds' reads and head polls), of the processes, and of
the broker's server (one of the bench's own, so nothing else is charged to it), per 1,000
events of a load of 8 writers committing 5 events at a time; and at 1,000 single-event
commits per second, each event's write-to-process latency (row insert to page arrival in
every process) at p50 and p99. Ratios: against tailing Postgres with as many processes.
32 processes hold about 70 connections: point FLOWMAESTRO_DATABASE_URL at a server with room
for them (max_connections of 150 or more; a shared one may refuse them).
"""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING

import asyncpg

from bench.harness import Row, Stats, percentile
from bench.scaleout import cpu_seconds
from bench.support import bench_database, sequencer_process
from bench.tails import WRITERS, caught_up, cost, latency, tails
from tests.broker.servers import broker_server

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from tests.broker.servers import BrokerServer

DESIGNS = ("tails", "nats", "redis")
METRICS = (
    ("Postgres CPU per 1k events", "s"),
    ("processes' CPU per 1k events", "s"),
    ("broker CPU per 1k events", "s"),
    ("write to process p50, 1,000 commits/s", "ms"),
    ("write to process p99, 1,000 commits/s", "ms"),
)


@contextlib.asynccontextmanager
async def design_broker(design: str) -> AsyncIterator[BrokerServer | None]:
    if design == "tails":
        yield None
        return
    async with broker_server(design) as server:
        yield server


async def run(quick: bool) -> list[Row]:
    transactions = 40 if quick else 150
    seconds = 1.0 if quick else 3.0
    counts = (1, 4, 32) if quick else (1, 4, 16, 32)
    measured: dict[tuple[str, int], tuple[float, ...]] = {}
    for design in DESIGNS:
        async with design_broker(design) as server:
            broker = None if server is None else (server.url, f"bench.{uuid.uuid4().hex[:8]}")
            broker_pids = [] if server is None else [server.pid]
            async with (
                bench_database() as dsn,
                sequencer_process(dsn, broker=broker),
                asyncpg.create_pool(dsn, min_size=WRITERS + 4, max_size=WRITERS + 4) as pool,
            ):
                for n in counts:
                    async with tails(dsn, n, broker) as running:
                        await cost(pool, running, 5)  # warm: connected, caught up
                        before = cpu_seconds(broker_pids)
                        pg, own = await cost(pool, running, transactions)
                        events = WRITERS * transactions * 5 / 1000
                        on_broker = (cpu_seconds(broker_pids) - before) / events
                        lat = await latency(pool, running, seconds)
                        await caught_up(pool, running)
                    measured[design, n] = (
                        pg,
                        own,
                        on_broker,
                        percentile(lat, 50),
                        percentile(lat, 99),
                    )
    rows: list[Row] = []
    for n in counts:
        for design in DESIGNS:
            case = f"{n} process{'es' if n > 1 else ''}: {design}"
            baseline = None if design == "tails" else measured["tails", n]
            for i, (metric, unit) in enumerate(METRICS):
                if design == "tails" and i == 2:
                    continue
                rows.append(
                    Row(
                        case,
                        metric,
                        unit,
                        Stats.of([measured[design, n][i]]),
                        None if baseline is None or i == 2 else Stats.of([baseline[i]]),
                        None if baseline is None or i == 2 else "tailing Postgres",
                    )
                )
    for design in DESIGNS:
        rows.append(
            Row(
                f"{counts[-1]} processes against 1: {design}",
                "Postgres CPU per 1k events",
                "s",
                Stats.of([measured[design, counts[-1]][0]]),
                Stats.of([measured[design, 1][0]]),
                "1 process",
            )
        )
    return rows

"""Commit-to-position latency at steady rates (500 and 1,000 events/s), against plain
LISTEN/NOTIFY at the same rate.

Ours: an event is emitted in its own transaction; the sequencer, in its own process as in
production and woken by NOTIFY, gives it a position; a tail, woken by the sequencer's NOTIFY,
reads it. Measured from the emitter's COMMIT returning to the tail yielding the event.
Baseline: the same rate of bare NOTIFY transactions, from COMMIT returning to the listener's
callback: the floor any NOTIFY-driven design pays. Also against the previous release's
wake-ups (a sequencer that never stays awake and sends only the head, so the tail reads
after each NOTIFY), same rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import asyncpg

from bench.harness import Row, Stats, percentile
from bench.support import bench_database, sequencer_process
from flowmaestro.events import NodeProgress
from flowmaestro.events.outbox import OutboxReader, PostgresEmitter

RATES = (500, 1000)  # events per second
TICK = 0.01  # seconds between paced sends; each event is one transaction


async def paced(send: object, seconds: float, rate: int) -> None:
    """Call `send()` `rate` times a second for `seconds`, in ticks of concurrent sends."""
    per_tick = int(rate * TICK)
    ticks = int(seconds / TICK)
    start = time.perf_counter()
    for t in range(ticks):
        await asyncio.gather(*(send() for _ in range(per_tick)))  # type: ignore[operator]
        delay = start + (t + 1) * TICK - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)  # pacing the load, not waiting for a result


def elapsed(committed: dict[str, float], arrived: dict[str, float]) -> list[float]:
    """Commit-to-arrival per key. A bare NOTIFY can reach its listener before the sender's
    coroutine resumes after COMMIT; such arrivals count as zero."""
    return [max(0.0, arrived[key] - at) for key, at in committed.items()]


async def ours(dsn: str, seconds: float, rate: int, *, previous: bool = False) -> list[float]:
    committed: dict[str, float] = {}
    arrived: dict[str, float] = {}
    total = int(seconds * rate)
    async with (
        sequencer_process(dsn, previous=previous),
        asyncpg.create_pool(dsn, min_size=12, max_size=12) as pool,
    ):
        emitter = PostgresEmitter(pool)
        reader = OutboxReader(pool)

        async def tail() -> None:
            async for stored in reader.tail(await reader.head()):
                arrived[stored.envelope["id"]] = time.perf_counter()
                if len(arrived) == total:
                    return

        async def send() -> None:
            event = NodeProgress(
                user_id="bench",
                execution_id="ex_lat",
                data={"node_id": "n", "progress": 0, "step": "s"},
            )
            await emitter.emit([event])
            committed[str(event.id)] = time.perf_counter()

        tail_task = asyncio.create_task(tail())
        await paced(send, seconds, rate)
        await asyncio.wait_for(tail_task, 30)
    return elapsed(committed, arrived)


async def bare_notify(dsn: str, seconds: float, rate: int) -> list[float]:
    committed: dict[str, float] = {}
    arrived: dict[str, float] = {}
    done = asyncio.Event()
    total = int(seconds * rate)
    listener = await asyncpg.connect(dsn)

    def on_notify(_c: object, _pid: int, _channel: str, payload: object) -> None:
        arrived[str(payload)] = time.perf_counter()
        if len(arrived) == total:
            done.set()

    await listener.add_listener("bench_latency", on_notify)
    counter = iter(range(total))
    async with asyncpg.create_pool(dsn, min_size=12, max_size=12) as pool:

        async def send() -> None:
            key = str(next(counter))
            async with pool.acquire() as con, con.transaction():
                await con.execute("SELECT pg_notify('bench_latency', $1)", key)
            committed[key] = time.perf_counter()

        await paced(send, seconds, rate)
        await asyncio.wait_for(done.wait(), 30)
    with contextlib.suppress(Exception):
        await listener.close()
    return elapsed(committed, arrived)


async def run(quick: bool) -> list[Row]:
    seconds = 3.0 if quick else 10.0
    rounds = 3 if quick else 5
    rows: list[Row] = []
    async with bench_database() as dsn:
        for rate in RATES:
            ours_p: dict[int, list[float]] = {50: [], 99: []}
            previous_p: dict[int, list[float]] = {50: [], 99: []}
            base_p: dict[int, list[float]] = {50: [], 99: []}
            for _ in range(rounds):
                lat = [x * 1000 for x in await ours(dsn, seconds, rate)]
                previous = [x * 1000 for x in await ours(dsn, seconds, rate, previous=True)]
                base = [x * 1000 for x in await bare_notify(dsn, seconds, rate)]
                for p in (50, 99):
                    ours_p[p].append(percentile(lat, p))
                    previous_p[p].append(percentile(previous, p))
                    base_p[p].append(percentile(base, p))
            for p in (50, 99):
                case = f"commit to position, {rate:,} events/s"
                rows += [
                    Row(
                        case,
                        f"p{p} vs bare NOTIFY",
                        "ms",
                        Stats.of(ours_p[p]),
                        Stats.of(base_p[p]),
                        "bare NOTIFY",
                    ),
                    Row(
                        case,
                        f"p{p} vs previous wake-ups",
                        "ms",
                        Stats.of(ours_p[p]),
                        Stats.of(previous_p[p]),
                        "previous wake-ups",
                    ),
                ]
    return rows

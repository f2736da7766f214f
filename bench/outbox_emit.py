"""Emit throughput: our emitter vs raw `copy_records_to_table` of the same rows, same run.

Cases: 1, 8 and 64 concurrent emitters; one event per transaction and batches of 50. The
baseline COPYs the same pre-serialised rows with the same rows per transaction, so a ratio
near 1 for single events means commit cost, not our code, is the limit.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import asyncpg

from bench.harness import Row, Stats
from bench.support import bench_database
from flowmaestro.events import NodeProgress, channels_for
from flowmaestro.events.catalogue import Event
from flowmaestro.events.outbox import PostgresEmitter


def make_events(count: int, writer: int, nodes: int = 1) -> list[Event]:
    """`count` progress events of execution `ex_{writer}`, spread over `nodes` nodes."""
    return [
        NodeProgress(
            user_id="bench",
            execution_id=f"ex_{writer}",
            data={"node_id": f"n{i % nodes}", "progress": i % 100, "step": f"step {i}"},
        )
        for i in range(count)
    ]


async def write_rate(
    per_writer: list[list[Event]], batch: int, write: Callable[[list[Event]], Awaitable[object]]
) -> float:
    """Events/s when each list is written concurrently by `write`, `batch` events a call."""

    async def writer(events: list[Event]) -> None:
        for i in range(0, len(events), batch):
            await write(events[i : i + batch])

    start = time.perf_counter()
    await asyncio.gather(*(writer(e) for e in per_writer))
    return sum(len(e) for e in per_writer) / (time.perf_counter() - start)


async def emit_ours(pool: asyncpg.Pool, per_writer: list[list[Event]], batch: int) -> float:
    return await write_rate(per_writer, batch, PostgresEmitter(pool).emit)


async def emit_raw_copy(pool: asyncpg.Pool, per_writer: list[list[Event]], batch: int) -> float:
    records: list[list[tuple[object, ...]]] = [
        [
            (e.id, e.type, json.dumps(channels_for(e)), e.model_dump_json(exclude={"position"}))
            for e in events
        ]
        for events in per_writer
    ]
    columns = ["event_id", "type", "channels", "envelope"]

    async def writer(rows: list[tuple[object, ...]]) -> None:
        for i in range(0, len(rows), batch):
            async with pool.acquire() as con, con.transaction():
                await con.copy_records_to_table(
                    "event_outbox", records=rows[i : i + batch], columns=columns
                )

    start = time.perf_counter()
    await asyncio.gather(*(writer(r) for r in records))
    return sum(len(r) for r in records) / (time.perf_counter() - start)


async def run(quick: bool) -> list[Row]:
    rounds = 3 if quick else 5
    rows: list[Row] = []
    async with bench_database() as dsn, asyncpg.create_pool(dsn, min_size=64, max_size=64) as pool:
        for writers in (1, 8, 64):
            for batch in (1, 50):
                total = (400 if batch == 1 else 5000) * (1 if quick else 3)
                total = max(total, writers * batch)
                ours: list[float] = []
                raw: list[float] = []
                for r in range(rounds):
                    per_writer = [make_events(total // writers, w) for w in range(writers)]
                    # Alternate which goes first so neither always gets the warmer cache.
                    order = (emit_ours, emit_raw_copy) if r % 2 == 0 else (emit_raw_copy, emit_ours)
                    for fn in order:
                        await pool.execute("TRUNCATE event_outbox")
                        rate = await fn(pool, per_writer, batch)
                        (ours if fn is emit_ours else raw).append(rate)
                rows.append(
                    Row(
                        f"{writers} emitters, {'single' if batch == 1 else 'batch of 50'}",
                        "throughput",
                        "events/s",
                        Stats.of(ours),
                        Stats.of(raw),
                        "raw COPY",
                    )
                )
    return rows

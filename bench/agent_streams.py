"""Agent token streams into the outbox: coalescing on (flush every 50 ms) against off.

100 concurrent streams each push a 4-character chunk 50 times a second (the model side of
an agent) through the token coalescer, which builds `agent:token` events and writes them to
the outbox (one pool of 20 connections, as the worker has). Measured per mode, same run:
outbox rows and transactions per second, and the p99 latency from a chunk being pushed to
the commit of the row that carries it. With coalescing off every chunk is its own row (still
batched when chunks queue up behind a write): the baseline. Both with one transaction per
write (`PostgresEmitter`) and with the worker's group commit (`GroupCommitEmitter`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import asyncpg

from bench.harness import Row, Stats, percentile
from bench.support import bench_database
from flowmaestro.activities.agent.coalescer import Token, TokenCoalescer
from flowmaestro.activities.agent.stream_events import AgentEvents
from flowmaestro.activities.execution import ExecutionRef
from flowmaestro.activities.group_commit import GroupCommitEmitter
from flowmaestro.events.outbox import Emitter, PostgresEmitter

STREAMS = 100
CHUNKS_PER_SECOND = 50
CHUNK = "abcd"


@dataclass
class Measured:
    rows: int = 0
    latencies: list[float] = field(default_factory=list)


async def stream(
    emitter: Emitter, n: int, seconds: float, coalesce: bool, measured: Measured
) -> None:
    execution = ExecutionRef(execution_id=f"ex_bench_{n}", user_id="bench", workflow_id="bench")
    events = AgentEvents(
        lambda key, data: execution.event(key, data, agent_id="a"),
        emitter,
        agent_id="a",
        node_id="agent",
        attempt=1,
    )
    pushed_at: list[float] = []

    async def write(tokens: list[Token]) -> None:
        await events.tokens(tokens)
        now = time.perf_counter()
        measured.rows += len(tokens)
        end = (tokens[-1].offset + len(tokens[-1].text)) // len(CHUNK)
        start = tokens[0].offset // len(CHUNK)
        measured.latencies.extend(now - pushed_at[i] for i in range(start, end))

    loop = asyncio.get_running_loop()
    # Streams start spread over one chunk interval, as independent agents would.
    begin = loop.time() + (n % STREAMS) / STREAMS / CHUNKS_PER_SECOND
    async with TokenCoalescer(write, coalesce=coalesce) as coalescer:
        for i in range(int(seconds * CHUNKS_PER_SECOND)):
            await asyncio.sleep(max(0.0, begin + i / CHUNKS_PER_SECOND - loop.time()))
            pushed_at.append(time.perf_counter())
            coalescer.push(CHUNK)


async def one_round(
    pool: asyncpg.Pool, emitter: Emitter, seconds: float, coalesce: bool
) -> tuple[float, float, float]:
    """(rows/s, transactions/s, p99 chunk-to-outbox latency in ms) of one run of every stream."""
    await pool.execute("TRUNCATE event_outbox")
    measured = Measured()
    started = time.perf_counter()
    await asyncio.gather(*(stream(emitter, n, seconds, coalesce, measured) for n in range(STREAMS)))
    elapsed = time.perf_counter() - started
    counts = await pool.fetchrow("SELECT count(*), count(DISTINCT txid) FROM event_outbox")
    assert counts is not None
    stored, transactions = counts
    assert stored == measured.rows, (stored, measured.rows)
    assert len(measured.latencies) == STREAMS * int(seconds * CHUNKS_PER_SECOND)
    return (
        measured.rows / elapsed,
        transactions / elapsed,
        percentile(measured.latencies, 99) * 1000,
    )


async def run(quick: bool) -> list[Row]:
    rounds, seconds = (3, 3.0) if quick else (5, 10.0)
    rows: list[Row] = []
    async with bench_database() as dsn, asyncpg.create_pool(dsn, min_size=20, max_size=20) as pool:
        for name, emitter in (
            ("one tx per write", PostgresEmitter(pool)),
            ("group commit", GroupCommitEmitter(pool)),
        ):
            samples: dict[bool, list[tuple[float, float, float]]] = {True: [], False: []}
            for r in range(rounds):
                # Alternate which goes first so neither always gets the warmer cache.
                for coalesce in (True, False) if r % 2 == 0 else (False, True):
                    samples[coalesce].append(await one_round(pool, emitter, seconds, coalesce))
            case = f"{STREAMS}x{CHUNKS_PER_SECOND}/s coalesced, {name}"
            for i, (metric, unit) in enumerate(
                (("outbox rows", "rows/s"), ("transactions", "tx/s"), ("chunk->outbox p99", "ms"))
            ):
                rows.append(
                    Row(
                        case,
                        metric,
                        unit,
                        Stats.of([s[i] for s in samples[True]]),
                        Stats.of([s[i] for s in samples[False]]),
                        "not coalesced",
                    )
                )
    return rows

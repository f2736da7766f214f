"""Agent token streams into the outbox, and on to the browser: coalescing on (flush every
50 ms) against off.

100 concurrent streams each push a 4-character chunk 50 times a second (the model side of
an agent) through the token coalescer, which builds `agent:token` events and writes them to
the outbox (one pool of 20 connections, as the worker has). Measured per mode, same run:
outbox rows and transactions per second, and the p99 latency from a chunk being pushed to
the commit of the row that carries it. With coalescing off every chunk is its own row (still
batched when chunks queue up behind a write): the baseline. Both with one transaction per
write (`PostgresEmitter`) and with the worker's group commit (`GroupCommitEmitter`).

Then to the client: the streams run in a process of their own (`python -m
bench.agent_streams produce DSN SECONDS COALESCE`, group commit, printing each chunk's push
time), a sequencer in another, the gateway in a third, and 100 Socket.IO clients here, one
per stream's user (its tokens arrive on the auto-joined user channel). Chunk-to-client p50
and p99, quiet and with both cores loaded by a CPU hog, coalesced against not.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from dataclasses import dataclass, field

import asyncpg

from bench.delivery import SECRET, Client, clients, server, token
from bench.harness import Row, Stats, percentile
from bench.scaleout import cpu_hog
from bench.support import bench_database, sequencer_process
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
    emitter: Emitter, n: int, seconds: float, coalesce: bool, measured: Measured, run: str = ""
) -> list[float]:
    """Stream `n` (user `u{n}`) of the run named `run` (event ids derive from it); returns
    each chunk's push time (wall clock)."""
    execution = ExecutionRef(
        execution_id=f"ex_bench{run}_{n}", user_id=f"u{n}", workflow_id="bench"
    )
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
        now = time.time()
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
            pushed_at.append(time.time())
            coalescer.push(CHUNK)
    return pushed_at


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


async def produce(dsn: str, seconds: float, coalesce: bool, run: str) -> None:
    """The streams as a worker runs them (group commit); prints [[push times] per stream]."""
    async with asyncpg.create_pool(dsn, min_size=20, max_size=20) as pool:
        emitter = GroupCommitEmitter(pool)
        measured = Measured()
        pushed = await asyncio.gather(
            *(stream(emitter, n, seconds, coalesce, measured, run) for n in range(STREAMS))
        )
    print(json.dumps(pushed), flush=True)


async def arrivals(client: Client, chars: int) -> list[tuple[float, int, int]]:
    """(arrival wall time, offset, length) of each token event until `chars` characters."""
    got: list[tuple[float, int, int]] = []
    received = 0
    while received < chars:
        message = str(await client.ws.recv())
        if message == "2":
            await client.ws.send("3")  # engine.io ping
            continue
        if not message.startswith('42["agent:token"'):
            continue
        now = time.time()
        data = json.loads(message[2:])[1]["data"]
        got.append((now, data["offset"], len(data["token"])))
        received += len(data["token"])
    return got


async def to_the_client(dsn: str, seconds: float, coalesce: bool) -> list[float]:
    """Chunk-to-client latencies (ms) of one run of every stream."""
    chars = int(seconds * CHUNKS_PER_SECOND) * len(CHUNK)
    async with server("ours", dsn, SECRET) as (port, _):
        connected = await clients(port, STREAMS, [token(f"u{n}") for n in range(STREAMS)])
        try:
            receiving = [asyncio.create_task(arrivals(c, chars)) for c in connected]
            producer = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.agent_streams",
                "produce",
                dsn,
                str(seconds),
                "1" if coalesce else "0",
                uuid.uuid4().hex[:8],
                stdout=asyncio.subprocess.PIPE,
            )
            output, _ = await asyncio.wait_for(producer.communicate(), 10 * seconds + 60)
            pushed: list[list[float]] = json.loads(output)
            received = await asyncio.wait_for(asyncio.gather(*receiving), 60)
        finally:
            for c in connected:
                await c.close()
    latencies = []
    for n, events in enumerate(received):
        for arrived, offset, length in events:
            for chunk in range(offset // len(CHUNK), (offset + length) // len(CHUNK)):
                latencies.append((arrived - pushed[n][chunk]) * 1000)
    return latencies


async def client_rows(quick: bool) -> list[Row]:
    rounds, seconds = (1, 3.0) if quick else (3, 8.0)
    rows: list[Row] = []
    async with bench_database() as dsn, sequencer_process(dsn):
        for load in ("quiet", "CPU hog"):
            samples: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
            for r in range(rounds):
                for coalesce in (True, False) if r % 2 == 0 else (False, True):
                    if load == "quiet":
                        latencies = await to_the_client(dsn, seconds, coalesce)
                    else:
                        async with cpu_hog():
                            latencies = await to_the_client(dsn, seconds, coalesce)
                    samples[coalesce].append((percentile(latencies, 50), percentile(latencies, 99)))
            case = f"{STREAMS}x{CHUNKS_PER_SECOND}/s to 100 clients, coalesced, {load}"
            for i, metric in enumerate(("chunk->client p50", "chunk->client p99")):
                rows.append(
                    Row(
                        case,
                        metric,
                        "ms",
                        Stats.of([s[i] for s in samples[True]]),
                        Stats.of([s[i] for s in samples[False]]),
                        "not coalesced",
                    )
                )
    return rows


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
    return rows + await client_rows(quick)


if __name__ == "__main__" and sys.argv[1] == "produce":
    asyncio.run(produce(sys.argv[2], float(sys.argv[3]), sys.argv[4] == "1", sys.argv[5]))

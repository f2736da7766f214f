"""Delivery across processes and the seed's multi-server design, in one run:

- throughput of a burst to 100 and to 1,000 connected clients, and CPU seconds per 100k
  deliveries summed over every process involved (servers, Postgres backends of the bench
  database or the Redis server), for:
  raw python-socketio (one process, from memory), our gateway (one process) with clients
  that do not batch and that batch, our gateway as two SO_REUSEPORT processes (as
  `flowmaestro gateway --workers 2`) with batching clients, and python-socketio with
  `AsyncRedisManager` over the machine's Redis as two processes on one port;
- latency at 1,000 events/s over 100 clients (the load from an emitter process of its own),
  quiet and with both cores loaded by a CPU hog the benchmark starts, for our gateway
  tailing Postgres and for one fed by NATS (the sequencer publishes each batch to the
  machine's NATS, BENCH_NATS_URL), against raw python-socketio under the same conditions;
- memory per idle connection on one gateway process (10,000 connections; 2,000 quick).

The clients all run in this one process: at 1,000 clients it may be what limits deliveries/s
for every peer alike; the CPU figures are per delivery and do not depend on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import httpx
import psutil

from bench.delivery import (
    SECRET,
    Client,
    clients,
    latency_ours,
    latency_raw,
    memory_per_connection,
    progress,
    server,
    token,
)
from bench.harness import Row, Stats, percentile
from bench.support import bench_database, sequencer_process
from flowmaestro.events.outbox import write_events

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
NATS_URL = os.environ.get("BENCH_NATS_URL", "nats://127.0.0.1:4222")


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(pid).cpu_times()
            total += times.user + times.system
    return total


async def backends(pool: asyncpg.Pool) -> list[int]:
    """The Postgres backends of the bench database (the sequencer's, the tails', ours)."""
    rows = await pool.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    return [r[0] for r in rows]


def redis_pid() -> list[int]:
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"]


@contextlib.asynccontextmanager
async def cpu_hog() -> AsyncIterator[None]:
    """Both cores busy: one spinning process per core."""
    hogs = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", "while True: pass")
        for _ in range(os.cpu_count() or 1)
    ]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
            await hog.wait()


class Peer:
    """One design under test: how to start a burst, which processes to charge CPU to."""

    def __init__(
        self,
        name: str,
        port: int,
        pids: Callable[[], Awaitable[list[int]]],
        burst: Callable[[int], Awaitable[None]],
        auth: Callable[[int], dict[str, object]],
    ) -> None:
        self.name = name
        self.port = port
        self.pids = pids
        self.burst = burst
        self.auth = auth


async def measure(peer: Peer, receivers: int, n: int, rounds: int) -> tuple[list[float], float]:
    """Deliveries/s per round, and CPU seconds per 100k deliveries over all rounds."""
    connected: list[Client] = await clients(
        peer.port, receivers, [peer.auth(i) for i in range(receivers)]
    )
    rates: list[float] = []
    cpu = 0.0
    try:
        for _ in range(rounds):
            counting = [asyncio.create_task(c.count(n)) for c in connected]
            pids = await peer.pids()
            before = cpu_seconds(pids)
            start = time.monotonic()
            await peer.burst(n)
            ends = await asyncio.wait_for(asyncio.gather(*counting), 300)
            cpu += cpu_seconds(pids) - before
            rates.append(n * receivers / (max(ends) - start))
    finally:
        for c in connected:
            await c.close()
    return rates, cpu / (rounds * n * receivers) * 100_000


async def run(quick: bool) -> list[Row]:
    rounds = 2 if quick else 3
    seconds = 3.0 if quick else 8.0
    idle = 2000 if quick else 10_000
    bursts = {100: 500 if quick else 1000, 1000: 50 if quick else 100}
    payloads = [
        {**progress("bench", i).model_dump(mode="json"), "position": i + 1} for i in range(1000)
    ]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        payload_file = Path(tmp) / "payloads.json"
        payload_file.write_text(json.dumps(payloads))
        channel = f"bench-{uuid.uuid4().hex[:8]}"
        async with (
            bench_database() as dsn,
            # It also publishes to NATS, for the gateway fed by the broker.
            sequencer_process(dsn, broker=(NATS_URL, channel)),
            asyncpg.create_pool(dsn, min_size=4, max_size=4) as pool,
            server("ours", dsn, SECRET) as (ours_port, ours_pid),
            server("ours", dsn, SECRET, NATS_URL, channel) as (brokered_port, _),
            server("ours", dsn, SECRET) as (two_port, two_a),
            server("ours", dsn, SECRET, port=two_port) as (_, two_b),
            server("raw", str(payload_file)) as (raw_port, raw_pid),
            server("redis", str(payload_file), REDIS_URL, channel) as (redis_port, redis_a),
            server("redis", str(payload_file), REDIS_URL, channel, port=redis_port) as (
                _,
                redis_b,
            ),
            httpx.AsyncClient(timeout=120) as http,
        ):

            async def commit(n: int) -> None:
                events = [progress("bench", i) for i in range(n)]
                async with pool.acquire() as con, con.transaction():
                    await write_events(con, events)

            def http_burst(port: int) -> Callable[[int], Awaitable[None]]:
                async def burst(n: int) -> None:
                    await http.post(f"http://127.0.0.1:{port}/burst", params={"n": n})

                return burst

            async def ours_pids(*pids: int) -> list[int]:
                return [*pids, *(await backends(pool))]

            async def just(*pids: int) -> list[int]:
                return list(pids)

            async def with_redis(*pids: int) -> list[int]:
                return [*pids, *redis_pid()]

            plain = lambda _: token("bench")  # noqa: E731
            batching = lambda _: {**token("bench"), "batch": True}  # noqa: E731
            peers = [
                Peer("raw", raw_port, lambda: just(raw_pid), http_burst(raw_port), lambda _: {}),
                Peer("ours", ours_port, lambda: ours_pids(ours_pid), commit, plain),
                Peer("ours batched", ours_port, lambda: ours_pids(ours_pid), commit, batching),
                Peer(
                    "ours x2 batched", two_port, lambda: ours_pids(two_a, two_b), commit, batching
                ),
                Peer(
                    "redis manager x2",
                    redis_port,
                    lambda: with_redis(redis_a, redis_b),
                    http_burst(redis_port),
                    lambda _: {},
                ),
            ]
            for receivers, n in bursts.items():
                results = {p.name: await measure(p, receivers, n, rounds) for p in peers}
                case = f"burst of {n} to {receivers} clients"
                for name, (rates, cpu) in results.items():
                    base = "redis manager x2" if name.startswith("ours x2") else "raw"
                    rows.append(
                        Row(
                            f"{case}: {name}",
                            "throughput",
                            "deliveries/s",
                            Stats.of(rates),
                            Stats.of(results[base][0]) if name != base else None,
                            base if name != base else None,
                        )
                    )
                    rows.append(
                        Row(
                            f"{case}: {name}",
                            "CPU per 100k deliveries",
                            "s",
                            Stats.of([cpu]),
                            Stats.of([results[base][1]]) if name != base else None,
                            base if name != base else None,
                        )
                    )

            for hogged in (False, True):
                samples: dict[str, list[float]] = {}
                for _ in range(rounds):
                    async with cpu_hog() if hogged else contextlib.nullcontext():
                        from_commit, _ = await latency_ours(pool, dsn, ours_port, seconds)
                        brokered, _ = await latency_ours(pool, dsn, brokered_port, seconds)
                        baseline = await latency_raw(raw_port, seconds)
                    for p in (50, 99):
                        samples.setdefault(f"p{p}", []).append(percentile(from_commit, p))
                        samples.setdefault(f"p{p} nats", []).append(percentile(brokered, p))
                        samples.setdefault(f"p{p} raw", []).append(percentile(baseline, p))
                for p in (50, 99):
                    for via, key in (("", f"p{p}"), (", via NATS", f"p{p} nats")):
                        rows.append(
                            Row(
                                f"1k events/s over 100 clients{', CPU hog' if hogged else ''}{via}",
                                f"p{p} commit-to-client",
                                "ms",
                                Stats.of(samples[key]),
                                Stats.of(samples[f"p{p} raw"]),
                                "raw emit to client",
                            )
                        )

            ours_kb = await memory_per_connection(ours_port, ours_pid, idle, token("idle"))
            raw_kb = await memory_per_connection(raw_port, raw_pid, idle, {})
            rows.append(
                Row(
                    f"{idle} idle connections, one process",
                    "memory per connection",
                    "KB",
                    Stats.of([ours_kb]),
                    Stats.of([raw_kb]),
                    "raw python-socketio",
                )
            )
    return rows

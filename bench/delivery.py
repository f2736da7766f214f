"""Gateway delivery against a raw python-socketio server, both in processes of their own and
measured with the same bare websocket client harness:

- throughput: a burst of events to 1, 10 and 100 clients; ours is committed to the outbox in
  one transaction (then sequenced, tailed and fanned out), the baseline emits the same
  envelopes from memory with `AsyncServer.emit` to a room of all clients;
- latency at 1,000 events/s spread over 100 clients (each its own user, 10 events/s each):
  ours from the emitter's COMMIT returning to the client's receipt, the baseline from its
  `emit` call to receipt;
- memory per idle connection with 2,000 connected clients (server RSS growth / clients).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import httpx
import psutil
from websockets.asyncio.client import ClientConnection, connect

from bench.harness import Row, Stats, percentile
from bench.support import bench_database, sequencer_process
from flowmaestro.events import NodeProgress
from flowmaestro.events.outbox import write_events
from flowmaestro.gateway import mint_token

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

SECRET = "bench-secret-of-enough-length-for-hs256"


def progress(user: str, i: int) -> NodeProgress:
    return NodeProgress(
        user_id=user,
        execution_id=f"ex_{user}",
        workflow_id="bench",
        data={"node_id": "fetch", "progress": i % 101, "step": f"step {i} of the bench"},
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def server(kind: str, *args: str, port: int | None = None) -> AsyncIterator[tuple[int, int]]:
    """(port, pid) of a server process of `bench._delivery_servers` (on `port` if given: the
    servers bind with SO_REUSEPORT, so two of one kind can share it)."""
    port = port or free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench._delivery_servers",
        kind,
        *args[:1],
        str(port),
        *args[1:],
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        if line.strip() != b"ready":
            raise RuntimeError(f"the {kind} server did not start")
        yield port, proc.pid
    finally:
        proc.terminate()
        await proc.wait()


class Client:
    """The harness: a bare Engine.IO/Socket.IO client that counts or timestamps events."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, port: int, auth: dict[str, object]) -> Client:
        ws = await connect(
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket",
            ping_interval=None,
            max_queue=None,
            open_timeout=60,
        )
        await ws.recv()  # engine.io open
        await ws.send("40" + json.dumps(auth))
        answer = str(await ws.recv())
        if not answer.startswith("40"):
            raise RuntimeError(f"refused: {answer}")
        return cls(ws)

    async def count(self, n: int) -> float:
        """The time the n-th event arrived (a batch counts its envelopes)."""
        got = 0
        async for message in self.ws:
            if isinstance(message, str) and message.startswith("42["):
                # Each envelope has one top-level `"position": N` (the spliced text's).
                got += message.count('"position": ') if message.startswith('42["events"') else 1
                if got >= n:
                    return time.monotonic()
            elif message == "2":
                await self.ws.send("3")  # engine.io ping
        raise RuntimeError("closed early")

    async def arrivals(
        self, n: int, out: dict[str, tuple[float, float]], stamps: list[float]
    ) -> None:
        """Record each event's arrival by id, monotonic and wall clock (and the delay from
        the server's `sentAt` when present)."""
        for _ in range(n):
            message = str(await self.ws.recv())
            while not message.startswith("42["):
                if message == "2":
                    await self.ws.send("3")  # engine.io ping
                message = str(await self.ws.recv())
            now = time.monotonic()
            envelope = json.loads(message[2:])[1]
            out[envelope["id"]] = (now, time.time())
            if "sentAt" in envelope:
                stamps.append(now - envelope["sentAt"])

    async def close(self) -> None:
        await self.ws.close()


async def clients(port: int, count: int, auth: list[dict[str, object]]) -> list[Client]:
    opened: list[Client] = []
    for start in range(0, count, 100):
        opened += await asyncio.gather(
            *(Client.open(port, auth[i]) for i in range(start, min(count, start + 100)))
        )
    return opened


def token(user: str) -> dict[str, object]:
    return {"token": mint_token(SECRET, user, 3600)}


async def burst_ours(pool: asyncpg.Pool, port: int, n: int, receivers: int) -> float:
    connected = await clients(port, receivers, [token("bench")] * receivers)
    counting = [asyncio.create_task(c.count(n)) for c in connected]
    events = [progress("bench", i) for i in range(n)]
    async with pool.acquire() as con, con.transaction():
        await write_events(con, events)
    start = time.monotonic()
    ends = await asyncio.wait_for(asyncio.gather(*counting), 120)
    for c in connected:
        await c.close()
    return n * receivers / (max(ends) - start)


async def burst_raw(port: int, n: int, receivers: int) -> float:
    connected = await clients(port, receivers, [{}] * receivers)
    counting = [asyncio.create_task(c.count(n)) for c in connected]
    async with httpx.AsyncClient() as http:
        start = time.monotonic()
        await http.post(f"http://127.0.0.1:{port}/burst", params={"n": n})
    ends = await asyncio.wait_for(asyncio.gather(*counting), 120)
    for c in connected:
        await c.close()
    return n * receivers / (max(ends) - start)


USERS = 100
RATE = 1000


async def latency_ours(
    pool: asyncpg.Pool, dsn: str, port: int, seconds: float
) -> tuple[list[float], list[float]]:
    """Commit-to-client and position-to-client (from the sequencer's `sequenced_at`: the
    gateway's own share) latencies, in ms; the load comes from an emitter process."""
    connected = await clients(port, USERS, [token(f"u{i}") for i in range(USERS)])
    per_client = int(seconds * RATE) // USERS
    arrived: dict[str, tuple[float, float]] = {}
    receiving = [asyncio.create_task(c.arrivals(per_client, arrived, [])) for c in connected]
    emitter = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench._delivery_servers",
        "emit",
        dsn,
        str(seconds),
        str(USERS),
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await asyncio.wait_for(emitter.communicate(), 10 * seconds + 60)
    committed: dict[str, float] = json.loads(output)
    await asyncio.wait_for(asyncio.gather(*receiving), 60)
    for c in connected:
        await c.close()
    sequenced = await pool.fetch(
        "SELECT event_id::text, extract(epoch FROM sequenced_at)::float8 FROM event_outbox"
        " WHERE event_id = ANY($1::uuid[])",
        list(committed),
    )
    from_commit = [max(0.0, arrived[k][1] - t) * 1000 for k, t in committed.items()]
    from_position = [max(0.0, arrived[k][1] - at) * 1000 for k, at in sequenced]
    return from_commit, from_position


async def latency_raw(port: int, seconds: float) -> list[float]:
    auth: list[dict[str, object]] = [{"room": f"user:u{i}"} for i in range(USERS)]
    connected = await clients(port, USERS, auth)
    per_client = int(seconds * RATE) // USERS
    stamps: list[float] = []
    receiving = [asyncio.create_task(c.arrivals(per_client, {}, stamps)) for c in connected]
    async with httpx.AsyncClient() as http:
        query = {"seconds": seconds, "rate": RATE, "rooms": USERS}
        await http.post(f"http://127.0.0.1:{port}/paced", params=query)
    await asyncio.wait_for(asyncio.gather(*receiving), 60)
    for c in connected:
        await c.close()
    return [s * 1000 for s in stamps]


async def memory_per_connection(port: int, pid: int, count: int, auth: dict[str, object]) -> float:
    process = psutil.Process(pid)
    warm = await clients(port, 10, [auth] * 10)  # imports and first-use allocations
    before = process.memory_info().rss
    connected = await clients(port, count, [auth] * count)
    after = process.memory_info().rss
    for c in warm + connected:
        await c.close()
    return (after - before) / count / 1024


async def run(quick: bool) -> list[Row]:
    rounds = 2 if quick else 5
    burst = 1000 if quick else 5000
    seconds = 3.0 if quick else 10.0
    idle = 2000
    rows: list[Row] = []
    payloads = [
        {**progress("bench", i).model_dump(mode="json"), "position": i + 1} for i in range(burst)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        payload_file = Path(tmp) / "payloads.json"
        payload_file.write_text(json.dumps(payloads))
        async with (
            bench_database() as dsn,
            sequencer_process(dsn),
            asyncpg.create_pool(dsn, min_size=12, max_size=12) as pool,
            server("ours", dsn, SECRET) as (ours_port, ours_pid),
            server("raw", str(payload_file)) as (raw_port, raw_pid),
        ):
            for receivers in (1, 10, 100):
                n = burst if receivers < 100 else burst // 5
                ours = [await burst_ours(pool, ours_port, n, receivers) for _ in range(rounds)]
                raw = [await burst_raw(raw_port, n, receivers) for _ in range(rounds)]
                rows.append(
                    Row(
                        f"burst of {n} to {receivers} clients",
                        "throughput",
                        "deliveries/s",
                        Stats.of(ours),
                        Stats.of(raw),
                        "raw python-socketio",
                    )
                )
            samples: dict[str, list[float]] = {}
            for _ in range(rounds):
                from_commit, from_position = await latency_ours(pool, dsn, ours_port, seconds)
                base = await latency_raw(raw_port, seconds)
                for p in (50, 99):
                    samples.setdefault(f"p{p} commit-to-client", []).append(
                        percentile(from_commit, p)
                    )
                    samples.setdefault(f"p{p} position-to-client", []).append(
                        percentile(from_position, p)
                    )
                    samples.setdefault(f"p{p} baseline", []).append(percentile(base, p))
            case = f"1k events/s over {USERS} clients"
            for metric in ("commit-to-client", "position-to-client"):
                for p in (50, 99):
                    rows.append(
                        Row(
                            case,
                            f"p{p} {metric}",
                            "ms",
                            Stats.of(samples[f"p{p} {metric}"]),
                            Stats.of(samples[f"p{p} baseline"]),
                            "raw emit to client",
                        )
                    )
            ours_kb = await memory_per_connection(ours_port, ours_pid, idle, token("idle"))
            raw_kb = await memory_per_connection(raw_port, raw_pid, idle, {})
            rows.append(
                Row(
                    f"{idle} idle connections",
                    "memory per connection",
                    "KB",
                    Stats.of([ours_kb]),
                    Stats.of([raw_kb]),
                    "raw python-socketio",
                )
            )
    return rows

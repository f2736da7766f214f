"""The two servers `bench.delivery` compares, each run in a process of its own:

`python -m bench._delivery_servers ours DSN PORT SECRET [BROKER_URL CHANNEL]`: the gateway app
on DSN (fed by the broker when given).
`python -m bench._delivery_servers raw PAYLOADS PORT`: a plain python-socketio AsyncServer that
emits the payloads (the same envelopes) from memory when asked over HTTP.
`python -m bench._delivery_servers redis PAYLOADS PORT REDIS_URL CHANNEL`: the same, with
python-socketio's AsyncRedisManager (the seed's multi-server design): run two on one port.
All print `ready` on stdout once they listen, on a SO_REUSEPORT socket (so that two processes
of one kind share the port, as `flowmaestro gateway --workers 2` does).

`python -m bench._delivery_servers emit DSN SECONDS USERS`: the latency load, 1,000 events/s
each committed in its own transaction, round-robin over USERS users; prints `{event id: wall
clock time its COMMIT returned}` as JSON at the end. It runs apart so that the clients'
process does the same work for ours as for the baseline.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import asyncpg
import socketio
import uvicorn
from temporalio.client import Client

from bench.outbox_latency import paced
from flowmaestro.events import NodeProgress
from flowmaestro.events.outbox import PostgresEmitter
from flowmaestro.gateway import GatewayConfig, create_app
from flowmaestro.security import Limits

EMIT_RATE = 1000  # commits per second, as bench/delivery.py asks for


async def _serve(app: Any, port: int) -> None:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan="on",
            log_level="warning",
            ws_ping_interval=None,
            ws_per_message_deflate=False,
        )
    )
    print("ready", flush=True)
    await server.serve(sockets=[sock])


async def ours(dsn: str, port: int, secret: str, broker: list[str]) -> None:
    # Delivery never calls Temporal: a lazy client that is never used.
    temporal = await Client.connect("127.0.0.1:1", lazy=True)
    async with asyncpg.create_pool(dsn, min_size=2, max_size=10) as pool:
        config = GatewayConfig(
            jwt_secret=secret,
            # One user ("bench") holds every client here: the per-user budgets (100 sockets,
            # issue 28) would refuse the 101st, and they are not what this measures.
            limits=Limits(
                socket_max_queue=100_000,
                user_max_sockets=100_000,
                user_max_channels=1_000_000,
            ),
            broker_url=broker[0] if broker else None,
            broker_channel=broker[1] if broker else "flowmaestro.sequenced",
        )
        await _serve(create_app(config, pool, temporal), port)


class RawApp:
    """Socket.IO plus two HTTP triggers: /burst?n= and /paced?seconds=&rate=&rooms=."""

    def __init__(self, payloads: list[dict[str, Any]], manager: Any = None) -> None:
        self.payloads = payloads
        self.sio = socketio.AsyncServer(
            async_mode="asgi", transports=["websocket"], client_manager=manager
        )
        self.sio.on("connect", self._connect)
        self.app = socketio.ASGIApp(self.sio, other_asgi_app=self._http)
        self._tasks: set[asyncio.Task[None]] = set()

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        room = auth.get("room", "user:bench") if isinstance(auth, dict) else "user:bench"
        await self.sio.enter_room(sid, room)

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        job = self._burst(int(query["n"])) if scope["path"] == "/burst" else self._paced(query)
        task = asyncio.create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def _burst(self, n: int) -> None:
        for payload in self.payloads[:n]:
            await self.sio.emit(payload["type"], payload, to="user:bench")

    async def _paced(self, query: dict[str, str]) -> None:
        seconds, rate, rooms = float(query["seconds"]), int(query["rate"]), int(query["rooms"])
        tick = 0.01
        per_tick = int(rate * tick)
        start = time.perf_counter()
        sent = 0
        for t in range(int(seconds / tick)):
            for _ in range(per_tick):
                payload = {**self.payloads[sent % len(self.payloads)], "sentAt": time.monotonic()}
                await self.sio.emit(payload["type"], payload, to=f"user:u{sent % rooms}")
                sent += 1
            delay = start + (t + 1) * tick - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # pacing the load


async def raw(payloads: list[dict[str, Any]], port: int) -> None:
    await _serve(RawApp(payloads).app, port)


async def redis(payloads: list[dict[str, Any]], port: int, url: str, channel: str) -> None:
    await _serve(RawApp(payloads, socketio.AsyncRedisManager(url, channel=channel)).app, port)


async def emit(dsn: str, seconds: float, users: int) -> None:
    committed: dict[str, float] = {}
    sent = iter(range(10**9))
    async with asyncpg.create_pool(dsn, min_size=12, max_size=12) as pool:
        emitter = PostgresEmitter(pool)

        async def send() -> None:
            i = next(sent)
            user = f"u{i % users}"
            event = NodeProgress(
                user_id=user,
                execution_id=f"ex_{user}",
                workflow_id="bench",
                data={"node_id": "fetch", "progress": i % 101, "step": f"step {i} of the bench"},
            )
            await emitter.emit([event])
            committed[str(event.id)] = time.time()

        await paced(send, seconds, EMIT_RATE)
    print(json.dumps(committed), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "emit":
        asyncio.run(emit(sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
    elif sys.argv[1] == "ours":
        asyncio.run(ours(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:7]))
    elif sys.argv[1] == "redis":
        payloads = json.loads(Path(sys.argv[2]).read_text())
        asyncio.run(redis(payloads, int(sys.argv[3]), sys.argv[4], sys.argv[5]))
    else:
        asyncio.run(raw(json.loads(Path(sys.argv[2]).read_text()), int(sys.argv[3])))

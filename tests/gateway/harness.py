"""A real gateway under uvicorn on a free port, and real Socket.IO clients that record."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import socketio
import uvicorn

from flowmaestro.events import NodeProgress, is_event_type
from flowmaestro.events.outbox import PostgresEmitter
from flowmaestro.gateway import Gateway, GatewayConfig, create_app, mint_token
from tests.support.asgi import asgi_client
from tests.support.ports import listening_socket
from tests.workflows.helpers import worker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    import asyncpg
    from opentelemetry.trace import Tracer
    from temporalio.client import Client

    from flowmaestro.gateway.clock import Clock

SECRET = "test-secret-of-enough-length-for-hs256!"


def token(user: str, ttl: int = 600) -> str:
    return mint_token(SECRET, user, ttl)


@dataclass
class Running:
    url: str
    app: Gateway


@contextlib.asynccontextmanager
async def serve(
    pool: asyncpg.Pool,
    temporal: Client,
    config: GatewayConfig | None = None,
    *,
    send_buffer: int | None = None,
    clock: Clock | None = None,
    tracer: Tracer | None = None,
) -> AsyncIterator[Running]:
    """The gateway app under uvicorn; its socket listens before uvicorn starts, so clients can
    connect at once (they wait in the backlog until startup has run). `send_buffer` fixes the
    kernel send buffer of accepted connections (as on a slow link; loopback's grows to MBs)."""
    config = config or GatewayConfig(jwt_secret=SECRET)
    app = create_app(config, pool, temporal, clock, tracer=tracer)
    sock = listening_socket(send_buffer)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan="on",
            log_level="warning",
            ws_max_size=config.limits.socket_max_frame_bytes,
            ws_ping_interval=None,
            ws_per_message_deflate=False,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await asyncio.wait_for(app.hub.running.wait(), 10)
        yield Running(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()


@contextlib.asynccontextmanager
async def with_worker(
    pool: asyncpg.Pool, temporal: Client
) -> AsyncIterator[tuple[Running, httpx.AsyncClient]]:
    """A worker, a gateway starting flows on its task queue, and an HTTP client of it."""
    async with worker(temporal, pool) as queue:
        config = GatewayConfig(jwt_secret=SECRET, task_queue=queue)
        async with (
            serve(pool, temporal, config) as running,
            httpx.AsyncClient(base_url=running.url) as http,
        ):
            yield running, http


@contextlib.asynccontextmanager
async def in_process(
    pool: asyncpg.Pool,
    temporal: Client,
    config: GatewayConfig | None = None,
    *,
    clock: Clock | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway's HTTP API in this process: its lifespan runs, requests go through httpx's
    ASGI transport (no uvicorn, no port). Streams and sockets need `serve`."""
    app = create_app(config or GatewayConfig(jwt_secret=SECRET), pool, temporal, clock)
    async with asgi_client(app) as http:
        yield http


class Recorder:
    """A python-socketio AsyncClient over websocket that keeps every event it receives."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: list[dict[str, Any]] = []
        self.frames: list[int] = []
        """Envelopes per message, in arrival order (1 for a single event)."""
        self.errors: list[Any] = []
        self.auth: list[tuple[str, Any]] = []
        """`auth:expiring` and `auth:expired` events, in order."""
        self.presence: list[tuple[str, str]] = []
        """(`presence:join` or `presence:leave`, the user id), as they came."""
        self.disconnects: list[str] = []
        self._changed = asyncio.Condition()
        self.client.on("*", self._on_any)
        self.client.on("disconnect", self._on_disconnect)

    async def _on_any(self, event: str, data: Any = None) -> None:
        if is_event_type(event):
            self.events.append(data)
            self.frames.append(1)
        elif event == "events":  # a batch, to a client that asked for them
            self.events.extend(data)
            self.frames.append(len(data))
        elif event == "error":
            self.errors.append(data)
        elif event.startswith("auth:"):
            self.auth.append((event, data))
        elif event.startswith("presence:"):
            self.presence.append((event, data["userId"]))
        async with self._changed:
            self._changed.notify_all()

    async def _on_disconnect(self, reason: str = "") -> None:
        self.disconnects.append(reason)
        async with self._changed:
            self._changed.notify_all()

    async def connect(self, url: str, user: str | None = None, **kwargs: Any) -> Recorder:
        auth = kwargs.pop("auth", {"token": token(user)} if user else None)
        await self.client.connect(
            url, auth=auth, transports=["websocket"], wait_timeout=10, **kwargs
        )
        return self

    async def call(self, event: str, payload: Any = None, timeout: float = 20) -> Any:
        return await self.client.call(event, payload, timeout=timeout)

    async def call_marked(self, event: str, payload: Any, timeout: float = 30) -> tuple[Any, int]:
        """The ack, and how many events had arrived before it (handlers run in arrival order)."""
        answered: asyncio.Future[tuple[Any, int]] = asyncio.get_running_loop().create_future()

        def on_ack(ack: Any) -> None:
            answered.set_result((ack, len(self.events)))

        await self.client.emit(event, payload, callback=on_ack)
        return await asyncio.wait_for(answered, timeout)

    def positions(self, execution_id: str | None = None) -> list[int]:
        return [
            e["position"]
            for e in self.events
            if execution_id is None or e.get("executionId") == execution_id
        ]

    async def wait_until(self, done: Callable[[Recorder], bool], timeout: float = 30) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: done(self))

    async def close(self) -> None:
        await self.client.disconnect()


def of_type(kind: str) -> Callable[[Recorder], bool]:
    return lambda r: any(e["type"] == kind for e in r.events)


def has_events(count: int) -> Callable[[Recorder], bool]:
    return lambda r: len(r.events) == count


async def own_execution(
    pool: asyncpg.Pool, execution_id: str, user: str, agents: tuple[str, ...] = ()
) -> None:
    """An execution of `user` whose flow has an agent node for each of `agents`."""
    graph = {"nodes": [{"id": a, "type": "agent", "after": [], "agentId": a} for a in agents]}
    await pool.execute(
        "INSERT INTO executions (id, user_id, workflow_id, graph) VALUES ($1, $2, 'test', $3)",
        execution_id,
        user,
        json.dumps(graph),
    )


def progress(user: str, execution_id: str, step: int) -> NodeProgress:
    return NodeProgress(
        user_id=user,
        execution_id=execution_id,
        data={"node_id": "n", "progress": step % 101, "step": str(step)},
    )


async def frames(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Server-sent events as {id, event, data}, keep-alive comments skipped."""
    frame: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if not line:
            if frame:
                yield frame
            frame = {}
        elif not line.startswith(":"):
            field, _, value = line.partition(": ")
            frame[field] = json.loads(value) if field == "data" else value


async def read(stream: AsyncIterator[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    return [await anext(stream) for _ in range(count)]


async def emit(pool: asyncpg.Pool, *events: Any) -> None:
    await PostgresEmitter(pool).emit(list(events))

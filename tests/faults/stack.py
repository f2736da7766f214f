"""A whole system of a fault test's own: a throwaway Postgres cluster, a Temporal dev server
on a database file (so it can be restarted), and `flowmaestro worker` and `gateway`
processes, each killable; plus waits that survive the outages the tests cause."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from flowmaestro.events.outbox import is_outage
from flowmaestro.gateway import mint_token
from flowmaestro.temporal_connection import temporal_cli_path
from tests.faults.postgres import Cluster, started_cluster
from tests.support.ports import free_port
from tests.support.processes import FLOWMAESTRO, Child, child_env, ready

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable
    from pathlib import Path

SECRET = "fault-tests-secret-of-enough-length-for-hs256"
USER = "fault-user"
TERMINAL = ("execution:completed", "execution:failed")


@dataclass
class Stack:
    root: Path
    cluster: Cluster
    dsn: str
    pool: asyncpg.Pool
    temporal_port: int
    temporal_server: Child
    client: Client
    task_queue: str
    worker_health_port: int
    worker: Child | None = None
    gateways: list[Child] = field(default_factory=list)
    gateway_ports: list[int] = field(default_factory=list)

    @property
    def token(self) -> str:
        return mint_token(SECRET, USER, 3600)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def url(self, index: int = 0) -> str:
        return f"http://127.0.0.1:{self.gateway_ports[index]}"

    def env(self, role: str, **extra: str) -> dict[str, str]:
        """A process's environment: this stack's settings, its role as application_name."""
        return child_env(
            FLOWMAESTRO_DATABASE_URL=f"{self.dsn}?application_name={role}",
            FLOWMAESTRO_TEMPORAL_ADDRESS=f"127.0.0.1:{self.temporal_port}",
            FLOWMAESTRO_TASK_QUEUE=self.task_queue,
            FLOWMAESTRO_JWT_SECRET=SECRET,
            FLOWMAESTRO_DRAIN_SECONDS="0",  # stopped with SIGTERM: no one to hand sockets to
            FLOWMAESTRO_STATE_DIR=str(self.root / "state"),
            FLOWMAESTRO_LOG_LEVEL="INFO",
            **extra,
        )

    async def start_worker(self, name: str = "worker", *, sequencer: bool = True) -> Child:
        """A new worker process (the stack's `worker` from now on)."""
        self.worker = await self._child(
            name,
            FLOWMAESTRO,
            "worker",
            env=self.env(
                name,
                FLOWMAESTRO_RUN_SEQUENCER=str(sequencer).lower(),
                FLOWMAESTRO_WORKER_HEALTH_PORT=str(self.worker_health_port),
            ),
        )
        return self.worker

    async def _child(self, name: str, *args: str, env: dict[str, str]) -> Child:
        return await Child(*args, env=env, log=self.root / f"{name}.log", name=name).start()

    async def worker_ready(self) -> None:
        assert self.worker is not None
        await ready(f"http://127.0.0.1:{self.worker_health_port}", self.worker)

    async def add_gateway(self, sequencer: bool = True) -> Child:
        port = free_port()
        name = f"gateway{len(self.gateways)}"
        gateway = await self._child(
            name,
            # One process per gateway: each log is one process's (one line per outage).
            *(FLOWMAESTRO, "gateway", "--port", str(port), "--workers", "1"),
            env=self.env(name, FLOWMAESTRO_RUN_SEQUENCER=str(sequencer).lower()),
        )
        self.gateways.append(gateway)
        self.gateway_ports.append(port)
        await ready(self.url(len(self.gateways) - 1), gateway)
        return gateway

    async def restart_gateway(self, index: int) -> None:
        await self.gateways[index].start()
        await ready(self.url(index), self.gateways[index])

    async def temporal_ready(self, timeout: float = 60) -> None:
        async with asyncio.timeout(timeout):
            # A separate process offers nothing to await but its port.
            while not await _answers(self.client):  # noqa: ASYNC110
                await asyncio.sleep(0.1)

    async def start(self, flow: dict[str, Any], **inputs: Any) -> str:
        async with httpx.AsyncClient(base_url=self.url(), timeout=30) as http:
            response = await http.post(
                "/api/executions", json={"flow": flow, "inputs": inputs}, headers=self.auth
            )
        assert response.status_code == 201, response.text
        execution_id: str = response.json()["executionId"]
        return execution_id

    async def query(self, statement: Callable[[asyncpg.Pool], Awaitable[Any]]) -> Any:
        """Run `statement`, waiting out an outage (the tests cause them)."""
        while True:
            try:
                return await statement(self.pool)
            except Exception as exc:
                if not is_outage(exc):
                    raise
            await asyncio.sleep(0.2)

    async def wait_event(
        self,
        execution_id: str,
        types: tuple[str, ...],
        node_id: str | None = None,
        timeout: float = 120,
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The first committed event of the execution of one of `types` (sequenced or not),
        of `node_id` and whose data contains `data` when given."""
        async with asyncio.timeout(timeout):
            while True:
                row = await self.query(
                    lambda pool: pool.fetchval(
                        "SELECT envelope::text FROM event_outbox WHERE envelope->>'executionId' = $1"
                        " AND type = ANY($2::text[])"
                        " AND ($3::text IS NULL OR envelope->'data'->>'nodeId' = $3)"
                        " AND envelope->'data' @> $4::jsonb"
                        " ORDER BY seq LIMIT 1",
                        execution_id,
                        list(types),
                        node_id,
                        json.dumps(data or {}),
                    )
                )
                if row is not None:
                    found: dict[str, Any] = json.loads(row)
                    return found
                await asyncio.sleep(0.1)

    async def finished(self, execution_id: str, timeout: float = 180) -> list[dict[str, Any]]:
        """The execution's events in position order, once it has ended and all are sequenced."""
        await self.wait_event(execution_id, TERMINAL, timeout=timeout)
        async with asyncio.timeout(timeout):
            while True:
                pending = await self.query(
                    lambda pool: pool.fetchval(
                        "SELECT count(*) FROM event_outbox"
                        " WHERE envelope->>'executionId' = $1 AND position IS NULL",
                        execution_id,
                    )
                )
                if pending == 0:
                    break
                await asyncio.sleep(0.1)
        rows = await self.query(
            lambda pool: pool.fetch(
                "SELECT position, envelope::text FROM event_outbox"
                " WHERE envelope->>'executionId' = $1 ORDER BY position",
                execution_id,
            )
        )
        events = []
        for position, envelope in rows:
            event = json.loads(envelope)
            event["position"] = position
            events.append(event)
        return events

    async def http_events(self, execution_id: str, page: int = 7, index: int = 0) -> list[Any]:
        """Every event of the execution as a client resuming page by page gets them."""
        got: list[Any] = []
        after = 0
        async with httpx.AsyncClient(base_url=self.url(index), timeout=30) as http:
            while True:
                response = await http.get(
                    f"/api/executions/{execution_id}/events",
                    params={"after": after, "limit": page},
                    headers=self.auth,
                )
                assert response.status_code == 200, response.text
                body = response.json()
                assert body["recovered"] is True
                got.extend(body["events"])
                if len(body["events"]) < page:
                    return got
                after = body["position"]

    async def worker_metric(self, name: str) -> float:
        async with httpx.AsyncClient(timeout=10) as http:
            text = (await http.get(f"http://127.0.0.1:{self.worker_health_port}/metrics")).text
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        raise AssertionError(f"no metric {name} in:\n{text}")

    def logs(self) -> str:
        parts = [self.worker, self.temporal_server, *self.gateways]
        return "\n".join(f"--- {p.name}\n{p.output[-4000:]}" for p in parts if p is not None)


async def _answers(client: Client) -> bool:
    try:
        await asyncio.wait_for(client.service_client.check_health(), 2)
    except Exception:
        return False
    return True


@contextlib.asynccontextmanager
async def running_stack(
    root: Path, *, gateways: int = 1, worker_sequencer: bool = True
) -> AsyncIterator[Stack]:
    """Postgres, Temporal, a worker (with its health port) and `gateways` gateways; each
    worker and gateway runs a sequencer (one leads) unless `worker_sequencer` is False."""
    cluster = await started_cluster()
    stack: Stack | None = None
    try:
        dsn = await cluster.create_database("flowmaestro")
        temporal_port = free_port()
        temporal_server = await Child(
            *[
                temporal_cli_path(),
                "server",
                "start-dev",
                "--headless",
                "--ip",
                "127.0.0.1",
                "--port",
                str(temporal_port),
                "--db-filename",
                str(root / "temporal.db"),
                "--log-level",
                "error",
                "--dynamic-config-value",
                "frontend.enableUpdateWorkflowExecution=true",
            ],
            log=root / "temporal.log",
            name="temporal",
        ).start()
        client = await _connect(temporal_port)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=5)
        assert pool is not None
        stack = Stack(
            root=root,
            cluster=cluster,
            dsn=dsn,
            pool=pool,
            temporal_port=temporal_port,
            temporal_server=temporal_server,
            client=client,
            task_queue=f"faults-{uuid.uuid4().hex[:8]}",
            worker_health_port=free_port(),
        )
        await stack.start_worker(sequencer=worker_sequencer)
        for _ in range(gateways):
            await stack.add_gateway()
        await stack.worker_ready()
        yield stack
    finally:
        if stack is not None:
            for process in (stack.worker, *stack.gateways):
                if process is not None:
                    await process.stop()
            await stack.temporal_server.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(stack.pool.close(), 10)
        cluster.destroy()


async def _connect(port: int, timeout: float = 60) -> Client:
    async with asyncio.timeout(timeout):
        while True:
            try:
                return await Client.connect(
                    f"127.0.0.1:{port}", data_converter=pydantic_data_converter
                )
            except RuntimeError:
                await asyncio.sleep(0.2)

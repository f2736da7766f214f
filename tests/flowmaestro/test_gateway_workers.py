"""`flowmaestro gateway --workers 2`: two processes on one port (SO_REUSEPORT) under one
supervisor. Connections spread over both, each tails the outbox (every client gets every
event), a worker that dies is replaced, and SIGTERM stops them all with exit 0."""

from __future__ import annotations

import contextlib
import signal
from typing import TYPE_CHECKING

import psutil
import pytest

from tests.gateway.harness import SECRET, Recorder, emit, progress
from tests.support.ports import free_port
from tests.support.processes import FLOWMAESTRO, Child, child_env

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


pytestmark = pytest.mark.slow


async def wait_started(gateway: Child, count: int, timeout: float = 90) -> None:
    """Until `count` workers have said they listen."""
    await gateway.wait_until(
        lambda: gateway.count("Uvicorn running on") >= count, f"{count} workers listen", timeout
    )


@contextlib.asynccontextmanager
async def supervisor(
    database_dsn: str,
    temporal_env: WorkflowEnvironment,
    port: int,
    count: int = 2,
    **settings: str,
) -> AsyncIterator[Child]:
    env = child_env(
        **settings,
        FLOWMAESTRO_DATABASE_URL=database_dsn,
        FLOWMAESTRO_TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        FLOWMAESTRO_JWT_SECRET=SECRET,
        FLOWMAESTRO_RUN_SEQUENCER="false",  # the test's sequencer
        FLOWMAESTRO_LOG_LEVEL="INFO",
    )
    args = ("gateway", "--workers", str(count), "--host", "127.0.0.1", "--port", str(port))
    gateway = await Child(FLOWMAESTRO, *args, env=env, name="gateway").start()
    try:
        await wait_started(gateway, count)
        yield gateway
    finally:
        await gateway.kill()


def workers(gateway: Child) -> list[psutil.Process]:
    return psutil.Process(gateway.pid).children()


def served_by(worker: psutil.Process, port: int) -> int:
    """Established connections of `worker` on the gateway's port."""
    return sum(
        1
        for c in worker.net_connections(kind="tcp")
        if c.status == psutil.CONN_ESTABLISHED and c.laddr and c.laddr.port == port
    )


async def test_two_workers_share_the_port_and_each_tails(
    database_dsn: str,
    pool: asyncpg.Pool,
    sequencer: Sequencer,
    temporal_env: WorkflowEnvironment,
) -> None:
    port = free_port()
    async with supervisor(database_dsn, temporal_env, port) as gateway:
        first, second = workers(gateway)
        url = f"http://127.0.0.1:{port}"
        clients = [await Recorder().connect(url, "u1") for _ in range(20)]
        # The kernel spreads connections over both (all 20 on one: odds of 1 in 500,000).
        spread = [served_by(w, port) for w in (first, second)]
        assert sum(spread) == 20 and min(spread) > 0, spread
        await emit(pool, *(progress("u1", "ex_w", i) for i in range(5)))
        for client in clients:
            await client.wait_until(lambda r: len(r.events) == 5)
            assert [e["data"]["step"] for e in client.events] == ["0", "1", "2", "3", "4"]

        # A worker that dies is replaced; its clients reconnect to a live one.
        first.send_signal(signal.SIGKILL)
        await wait_started(gateway, 3)
        assert first.pid not in [w.pid for w in workers(gateway)]
        assert len(workers(gateway)) == 2
        late = await Recorder().connect(url, "u1")
        await emit(pool, progress("u1", "ex_w", 5))
        await late.wait_until(lambda r: len(r.events) == 1)
        for client in [*clients, late]:
            if client.client.connected:
                await client.close()

        children = workers(gateway)
        assert await gateway.stop(signal.SIGTERM, timeout=30) == 0
        _, alive = psutil.wait_procs(children, timeout=5)
        assert not alive

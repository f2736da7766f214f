"""`flowmaestro gateway --workers 2`: two processes on one port (SO_REUSEPORT) under one
supervisor. Connections spread over both, each tails the outbox (every client gets every
event), a worker that dies is replaced, and SIGTERM stops them all with exit 0."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING

import psutil

from tests.flowmaestro.devstack import dev_env
from tests.gateway.harness import SECRET, Recorder, emit, progress
from tests.gateway.process import FLOWMAESTRO, free_port

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


class Supervised:
    """The supervisor process and what it (and its workers) write to stderr."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._changed = asyncio.Condition()

    def started(self) -> int:
        """How many workers have said they listen."""
        return sum("Uvicorn running on" in line for line in self.lines)

    async def wait_started(self, count: int, timeout: float = 90) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(
                    lambda: self.started() >= count or self.proc.returncode is not None
                )
        assert self.started() >= count, "".join(self.lines)

    async def pump(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.lines.append(line.decode(errors="replace"))
            async with self._changed:
                self._changed.notify_all()
        async with self._changed:
            self._changed.notify_all()


@contextlib.asynccontextmanager
async def supervisor(
    database_dsn: str, temporal_env: WorkflowEnvironment, port: int
) -> AsyncIterator[Supervised]:
    env = dev_env(
        FLOWMAESTRO_DATABASE_URL=database_dsn,
        FLOWMAESTRO_TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        FLOWMAESTRO_JWT_SECRET=SECRET,
        FLOWMAESTRO_RUN_SEQUENCER="false",  # the test's sequencer
        FLOWMAESTRO_LOG_LEVEL="INFO",
    )
    proc = await asyncio.create_subprocess_exec(
        FLOWMAESTRO,
        *("gateway", "--workers", "2", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    supervised = Supervised(proc)
    pump = asyncio.create_task(supervised.pump())
    try:
        await supervised.wait_started(2)
        yield supervised
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await asyncio.wait_for(pump, 30)


def workers(proc: asyncio.subprocess.Process) -> list[psutil.Process]:
    return psutil.Process(proc.pid).children()


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
    async with supervisor(database_dsn, temporal_env, port) as supervised:
        proc = supervised.proc
        first, second = workers(proc)
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
        await supervised.wait_started(3)
        assert first.pid not in [w.pid for w in workers(proc)]
        assert len(workers(proc)) == 2
        late = await Recorder().connect(url, "u1")
        await emit(pool, progress("u1", "ex_w", 5))
        await late.wait_until(lambda r: len(r.events) == 1)
        for client in [*clients, late]:
            if client.client.connected:
                await client.close()

        children = workers(proc)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        _, alive = psutil.wait_procs(children, timeout=5)
        assert not alive

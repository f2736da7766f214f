"""`flowmaestro worker`: run every workflow and activity (and a sequencer) until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING

import click
import httpx
import uvicorn

from flowmaestro.activities.group_commit import GroupCommitEmitter
from flowmaestro.activities.nodes.base import NodeServices
from flowmaestro.activities.render_pool import RenderPool
from flowmaestro.activities.write_retry import WriteRetry
from flowmaestro.agents import agent_services
from flowmaestro.broker import publishing
from flowmaestro.database import create_pool, resolve_dsn
from flowmaestro.events.outbox import Sequencer
from flowmaestro.health import WorkerHealth
from flowmaestro.runtime import run_async, settings_of
from flowmaestro.security.egress import EgressGuard
from flowmaestro.temporal_connection import connect_temporal
from flowmaestro.workflows.worker import build_worker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from flowmaestro.settings import Settings

log = logging.getLogger(__name__)


@click.command("worker")
@click.pass_context
def worker_command(ctx: click.Context) -> None:
    """Run a Temporal worker on FLOWMAESTRO_TASK_QUEUE until Ctrl-C or SIGTERM."""
    settings = settings_of(ctx)

    async def main() -> None:
        current = asyncio.current_task()
        assert current is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, current.cancel)
        dsn = resolve_dsn(settings)
        client = await connect_temporal(settings)
        pool = await create_pool(dsn, max_size=20)
        writes = WriteRetry(
            deadline=settings.write_deadline_seconds,
            max_interval=settings.write_retry_max_interval_seconds,
        )
        health = WorkerHealth(pool, client, writes)
        async with (
            pool,
            httpx.AsyncClient() as http,
            EgressGuard(settings.limits) as egress,
            RenderPool(settings.limits) as renderer,
            _sequencing(dsn, settings),
            _watching(health, settings),
        ):
            services = NodeServices(
                http=http,
                egress=egress,
                renderer=renderer,
                limits=settings.limits,
                pool=pool,
                agents=agent_services(settings, http),
                writes=writes,
            )
            worker = build_worker(
                client,
                task_queue=settings.task_queue,
                emitter=GroupCommitEmitter(pool),
                pool=pool,
                services=services,
            )
            log.info("worker running on task queue %s", settings.task_queue)
            with contextlib.suppress(asyncio.CancelledError):
                await worker.run()

    run_async(main())


@contextlib.asynccontextmanager
async def _sequencing(dsn: str, settings: Settings) -> AsyncIterator[None]:
    """A background sequencer for the block (the advisory lock keeps one active overall),
    publishing each batch to the broker when one is configured."""
    if not settings.run_sequencer:
        yield
        return
    url = settings.broker_url.get_secret_value() if settings.broker_url else None
    async with publishing(url, settings.broker_channel) as sink:
        sequencer = Sequencer(dsn, sink=sink)
        task = asyncio.create_task(sequencer.run())
        try:
            yield
        finally:
            sequencer.stop()
            await asyncio.wait_for(task, 10)


@contextlib.asynccontextmanager
async def _watching(health: WorkerHealth, settings: Settings) -> AsyncIterator[None]:
    """Watch the dependencies for the block; serve the health app when a port is set."""
    tasks = [asyncio.create_task(health.watch())]
    server = None
    if settings.worker_health_port is not None:
        server = _HealthServer(
            uvicorn.Config(
                health,
                host=settings.worker_health_host,
                port=settings.worker_health_port,
                lifespan="off",
                log_level=settings.log_level.lower(),
            )
        )
        tasks.append(asyncio.create_task(server.serve()))
    try:
        yield
    finally:
        if server is not None:
            server.should_exit = True
        tasks[0].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class _HealthServer(uvicorn.Server):
    """uvicorn inside a process that handles its own signals (SIGTERM stops the worker)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

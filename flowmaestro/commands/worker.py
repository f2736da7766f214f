"""`flowmaestro worker`: run every workflow and activity (and a sequencer) until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING

import click
import httpx

from activities.group_commit import GroupCommitEmitter
from activities.nodes.base import NodeServices
from activities.render_pool import RenderPool
from events.outbox import Sequencer
from flowmaestro.agents import agent_services
from flowmaestro.database import create_pool, resolve_dsn
from flowmaestro.runtime import run_async, settings_of
from flowmaestro.temporal import connect_temporal
from security.egress import EgressGuard
from workflows.worker import build_worker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

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
        async with (
            pool,
            httpx.AsyncClient() as http,
            EgressGuard(settings.limits) as egress,
            RenderPool(settings.limits) as renderer,
            _sequencing(dsn, settings.run_sequencer),
        ):
            services = NodeServices(
                http=http,
                egress=egress,
                renderer=renderer,
                limits=settings.limits,
                pool=pool,
                agents=agent_services(settings, http),
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
async def _sequencing(dsn: str, enabled: bool) -> AsyncIterator[None]:
    """A background sequencer for the block (the advisory lock keeps one active overall)."""
    if not enabled:
        yield
        return
    sequencer = Sequencer(dsn)
    task = asyncio.create_task(sequencer.run())
    try:
        yield
    finally:
        sequencer.stop()
        await asyncio.wait_for(task, 10)

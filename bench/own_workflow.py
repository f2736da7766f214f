"""The plugin's overhead on a user's own workflow: 50 trivial activities in a chain, run on a
real Temporal dev server by a worker with `FlowMaestroPlugin` (a tracked run: every attempt's
`node:started` and `node:completed`, the execution's start and end, written to the Postgres
outbox while a sequencer process numbers them) against a worker without it, same run, rounds
alternating. A run without the owner's search attribute on the plugin's worker (untracked:
no writes) shows what the interceptors alone cost. Target: at most 1.3x.

The metric is the wall time from the start to the workflow's result.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

import asyncpg
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench._own_workflows import ACTIVITIES, ChainWorkflow, step
from bench.harness import Row, Stats
from bench.support import bench_database, sequencer_process
from flowmaestro.flows.search_attributes import dev_server_args
from flowmaestro.settings import Settings
from flowmaestro.temporal import FlowMaestroPlugin, start_options
from flowmaestro.temporal_connection import temporal_cli_path

TRACKED = "plugin, tracked"
UNTRACKED = "plugin, untracked"
OFF = "no plugin"


async def one_run(client: Client, queue: str, options: dict[str, Any]) -> float:
    """Milliseconds from start to result of one run."""
    started = time.perf_counter()
    result = await client.execute_workflow(
        ChainWorkflow.run, 0, id=f"chain-{uuid.uuid4().hex}", task_queue=queue, **options
    )
    assert result == ACTIVITIES
    return (time.perf_counter() - started) * 1000


async def run(quick: bool) -> list[Row]:
    rounds = 3 if quick else 9
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(), dev_server_extra_args=dev_server_args()
    )
    async with (
        env,
        bench_database() as dsn,
        sequencer_process(dsn),
        asyncpg.create_pool(dsn, min_size=1, max_size=2) as pool,
        contextlib.AsyncExitStack() as stack,
    ):
        plugin = FlowMaestroPlugin(Settings(database_url=dsn))
        with_plugin = Client(
            env.client.service_client, namespace=env.client.namespace, plugins=[plugin]
        )
        workers = {"bench-plugin": with_plugin, "bench-plain": env.client}
        for queue, client in workers.items():
            await stack.enter_async_context(
                Worker(client, task_queue=queue, workflows=[ChainWorkflow], activities=[step])
            )
        modes = {
            TRACKED: (with_plugin, "bench-plugin", start_options("bench")),
            UNTRACKED: (with_plugin, "bench-plugin", {}),
            OFF: (env.client, "bench-plain", {}),
        }
        samples: dict[str, list[float]] = {mode: [] for mode in modes}
        for client, queue, options in modes.values():  # warm-up: caches, the sandbox
            await one_run(client, queue, options)
        for round_ in range(rounds):
            # Alternate the order, so no mode always runs right after another.
            for mode in sorted(modes, reverse=round_ % 2 == 1):
                samples[mode].append(await one_run(*modes[mode]))
        written = await pool.fetchval("SELECT count(*) FROM event_outbox")
    # Each tracked run: its start and end, and each activity's start and completion.
    assert written == (rounds + 1) * (2 + 2 * ACTIVITIES), written
    off = Stats.of(samples[OFF])
    rows: list[Row] = []
    for mode in (TRACKED, UNTRACKED):
        on = samples[mode]
        rows.append(
            Row(f"{ACTIVITIES} activities, {mode}", "wall time", "ms", Stats.of(on), off, OFF)
        )
        rows.append(
            Row(
                f"{ACTIVITIES} activities, {mode}",
                "cost per activity",
                "ms",
                Stats.of([(a - b) / ACTIVITIES for a, b in zip(on, samples[OFF], strict=True)]),
            )
        )
    return rows

"""Event emission's overhead per node: 50 trivial `transform` nodes in a chain and 50 in
parallel, run by ExecutionWorkflow on a real Temporal dev server, with events written to
the Postgres outbox (a sequencer process numbering them) against the same flows with
emission off (`events.outbox.NullEmitter`), same run, rounds alternating. Emission is
measured two ways: the worker's group-commit emitter (concurrent emits share a
transaction) and one transaction per emit.

The metric is the wall time from `start_execution` to the workflow's result.
"""

from __future__ import annotations

import contextlib
import time

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.harness import Row, Stats
from bench.support import bench_database, sequencer_process
from flowmaestro.activities.group_commit import GroupCommitEmitter
from flowmaestro.activities.nodes.base import NodeServices
from flowmaestro.activities.render_pool import RenderPool
from flowmaestro.events.outbox import Emitter, NullEmitter, PostgresEmitter
from flowmaestro.flows.flow import Flow
from flowmaestro.flows.start import start_execution
from flowmaestro.security import Limits
from flowmaestro.security.egress import EgressGuard
from flowmaestro.temporal_connection import temporal_cli_path
from flowmaestro.workflows.worker import build_worker

NODES = 50
GROUP_COMMIT = "group commit"  # what `flowmaestro worker` uses
PER_EMIT = "per emit"  # one transaction per emit (events.outbox.PostgresEmitter)
OFF = "off"


def chain(n: int) -> Flow:
    nodes = [{"id": "n0", "type": "transform", "config": {"output": 0}}]
    nodes += [
        {
            "id": f"n{i}",
            "type": "transform",
            "after": [f"n{i - 1}"],
            "config": {"output": f"{{{{ nodes.n{i - 1} + 1 }}}}"},
        }
        for i in range(1, n)
    ]
    return Flow.model_validate({"name": f"chain-{n}", "nodes": nodes})


def parallel(n: int) -> Flow:
    nodes = [{"id": f"n{i}", "type": "transform", "config": {"output": i}} for i in range(n)]
    return Flow.model_validate({"name": f"parallel-{n}", "nodes": nodes})


async def one_run(client: Client, pool: asyncpg.Pool, flow: Flow, queue: str) -> float:
    """Milliseconds from start to result of one execution."""
    started = time.perf_counter()
    execution_id = await start_execution(client, flow, "bench", {}, pool=pool, task_queue=queue)
    await client.get_workflow_handle(execution_id).result()
    return (time.perf_counter() - started) * 1000


async def run(quick: bool) -> list[Row]:
    rounds = 3 if quick else 9
    flows = {"chain": chain(NODES), "parallel": parallel(NODES)}
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter, dev_server_existing_path=temporal_cli_path()
    )
    async with (
        env,
        bench_database() as dsn,
        sequencer_process(dsn),
        asyncpg.create_pool(dsn, min_size=2, max_size=20) as pool,
        httpx.AsyncClient() as http,
        EgressGuard(Limits()) as egress,
        RenderPool(Limits()) as renderer,
        contextlib.AsyncExitStack() as stack,
    ):
        services = NodeServices(http=http, egress=egress, renderer=renderer, pool=pool)
        emitters: dict[str, Emitter] = {
            GROUP_COMMIT: GroupCommitEmitter(pool),
            PER_EMIT: PostgresEmitter(pool),
            OFF: NullEmitter(),
        }
        queues = {mode: f"bench-{mode.replace(' ', '-')}" for mode in emitters}
        for mode, emitter in emitters.items():
            await stack.enter_async_context(
                build_worker(
                    env.client,
                    task_queue=queues[mode],
                    emitter=emitter,
                    pool=pool,
                    services=services,
                )
            )
        samples: dict[tuple[str, str], list[float]] = {
            (shape, mode): [] for shape in flows for mode in emitters
        }
        for flow in flows.values():
            for mode in emitters:  # warm-up: caches, connections, the sandbox
                await one_run(env.client, pool, flow, queues[mode])
        for round_ in range(rounds):
            for shape, flow in flows.items():
                # Alternate the order, so no mode always runs right after another.
                for mode in sorted(emitters, reverse=round_ % 2 == 1):
                    samples[shape, mode].append(await one_run(env.client, pool, flow, queues[mode]))
        written = await pool.fetchval("SELECT count(*) FROM event_outbox")
    # Each emitting run wrote 2 + 3 per node events (lifecycle; started, updated, completed).
    assert written == 2 * (rounds + 1) * len(flows) * (2 + 3 * NODES), written
    rows: list[Row] = []
    for shape in flows:
        off = samples[shape, OFF]
        for mode in (GROUP_COMMIT, PER_EMIT):
            on = samples[shape, mode]
            rows.append(
                Row(
                    f"{shape} of {NODES}, {mode}",
                    "wall time",
                    "ms",
                    Stats.of(on),
                    Stats.of(off),
                    "emission off",
                )
            )
            rows.append(
                Row(
                    f"{shape} of {NODES}, {mode}",
                    "cost per node",
                    "ms",
                    Stats.of([(a - b) / NODES for a, b in zip(on, off, strict=True)]),
                )
            )
    return rows

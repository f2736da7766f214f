"""`flowmaestro prune`: old events go, recent ones stay, and the horizon is recorded so a
resume from before it answers `recovered: false`; an execution's snapshot (its state row)
is the same after a prune as before."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from flowmaestro.events import NodeProgress
from flowmaestro.events.outbox import OutboxReader, PostgresEmitter, prune_before
from flowmaestro.flows.flow import load_flow
from tests.gateway.harness import serve, token
from tests.support.processes import FLOWMAESTRO, child_env, run
from tests.workflows.helpers import events_until, start, worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


def progress(n: int) -> NodeProgress:
    return NodeProgress(
        user_id="u1", execution_id="ex_p", data={"node_id": "n", "progress": n, "step": str(n)}
    )


async def sequenced(pool: asyncpg.Pool, count: int) -> None:
    async with asyncio.timeout(30):
        async for stored in OutboxReader(pool, poll_interval=0.1).tail(0):
            if stored.position >= count:
                return


@pytest.mark.slow
async def test_prune_deletes_what_is_older_and_records_the_horizon(
    pool: asyncpg.Pool, database_dsn: str, sequencer: Sequencer
) -> None:
    await PostgresEmitter(pool).emit([progress(n) for n in range(5)])
    await sequenced(pool, 5)
    env = child_env(FLOWMAESTRO_DATABASE_URL=database_dsn)

    code, out, err = await run(FLOWMAESTRO, "prune", "--older-than", "1h", env=env)
    assert (code, out.strip()) == (0, "deleted 0 event(s); history is kept after position 0"), err

    # Made to look two hours old; one more event stays young.
    await pool.execute("UPDATE event_outbox SET sequenced_at = now() - interval '2 hours'")
    await PostgresEmitter(pool).emit([progress(5)])
    await sequenced(pool, 6)
    code, out, err = await run(FLOWMAESTRO, "prune", "--older-than", "1h", env=env)
    assert (code, out.strip()) == (0, "deleted 5 event(s); history is kept after position 5"), err

    page = await OutboxReader(pool).replay(0, "execution:ex_p", limit=10)
    assert [e.position for e in page.events] == [6]
    assert page.recovered is False
    assert (await OutboxReader(pool).replay(5, "execution:ex_p", limit=10)).recovered


async def test_prune_refuses_an_age_it_cannot_read(database_dsn: str) -> None:
    env = child_env(FLOWMAESTRO_DATABASE_URL=database_dsn)
    code, _, err = await run(FLOWMAESTRO, "prune", "--older-than", "a week", env=env)
    assert code == 2
    assert "is not an age like 90s, 30m, 12h or 7d" in err


RUNNING = """
name: long
nodes:
  - {id: first, type: transform, config: {output: 1}}
  - {id: wait, type: delay, after: [first], config: {seconds: 3600, reports: 1}}
"""
WAITING = """
name: ask
nodes:
  - {id: ask, type: user_input, config: {prompt: "Go {{ inputs.who }}?", input_type: boolean}}
inputs:
  who: {type: string}
"""
FINISHED = """
name: quick
nodes:
  - {id: only, type: transform, config: {output: {"done": true, "note": null}}}
"""


async def test_snapshots_are_the_same_after_a_prune(
    pool: asyncpg.Pool,
    database_dsn: str,
    sequencer: Sequencer,
    temporal_env: WorkflowEnvironment,
) -> None:
    """A running, a waiting and a finished execution: every event pruned, every snapshot
    (nodes, prompts with their rendered text, outputs, position) as it was."""
    client = temporal_env.client
    env = child_env(FLOWMAESTRO_DATABASE_URL=database_dsn)
    async with worker(client, pool) as queue, serve(pool, client) as running:
        running_id = await start(client, pool, queue, load_flow(RUNNING))
        waiting_id = await start(client, pool, queue, load_flow(WAITING), who="ada")
        finished_id = await start(client, pool, queue, load_flow(FINISHED))
        await events_until(pool, running_id, {"node:started"}, node_id="wait")
        await events_until(pool, waiting_id, {"user_input:required"})
        await events_until(pool, finished_id)
        ids = {"running": running_id, "waiting": waiting_id, "finished": finished_id}
        headers = {"Authorization": f"Bearer {token('u1')}"}
        async with httpx.AsyncClient(base_url=running.url, headers=headers) as http:

            async def snapshots() -> dict[str, dict[str, Any]]:
                return {
                    kind: (await http.get(f"/api/executions/{execution_id}")).json()
                    for kind, execution_id in ids.items()
                }

            before = await snapshots()
            await pool.execute("UPDATE event_outbox SET sequenced_at = now() - interval '2 hours'")
            written = await pool.fetchval("SELECT count(*) FROM event_outbox")
            code, out, err = await run(FLOWMAESTRO, "prune", "--older-than", "1h", env=env)
            assert (code, out.split(" event(s)")[0]) == (0, f"deleted {written}"), err
            assert await pool.fetchval("SELECT count(*) FROM event_outbox") == 0
            after = await snapshots()
            for execution_id in ids.values():
                page = await OutboxReader(pool).replay(0, f"execution:{execution_id}", limit=10)
                assert page.events == [] and page.recovered is False
        await client.get_workflow_handle(running_id).terminate()

    assert after == before
    assert {kind: s["status"] for kind, s in after.items()} == {
        "running": "running",
        "waiting": "waiting",
        "finished": "completed",
    }
    assert [(n["nodeId"], n["status"]) for n in after["running"]["nodes"]] == [
        ("first", "completed"),
        ("wait", "running"),
    ]
    [prompt] = after["waiting"]["pendingInputs"]
    assert (prompt["prompt"], prompt["schema"]) == ("Go ada?", {"type": "boolean"})
    assert after["finished"]["outputs"] == {"only": {"done": True, "note": None}}
    assert all(s["position"] > 0 for s in after.values())


async def test_a_large_prune_goes_in_steps(pool: asyncpg.Pool, sequencer: Sequencer) -> None:
    """7 events pruned 3 positions a transaction: every event, channel row and stamp goes,
    and a second prune finds nothing left."""
    await pool.execute(
        "INSERT INTO executions (id, user_id, workflow_id) VALUES ('ex_p', 'u1', 'f')"
    )
    await PostgresEmitter(pool).emit([progress(n) for n in range(7)])
    await sequenced(pool, 7)
    await pool.execute("UPDATE event_outbox SET sequenced_at = now() - interval '2 hours'")
    before = datetime.now(UTC) - timedelta(hours=1)
    async with pool.acquire() as con:
        assert await prune_before(con, before, step=3) == (7, 7)
        assert await prune_before(con, before, step=3) == (0, 7)
    assert await pool.fetchval("SELECT count(*) FROM event_outbox") == 0
    assert await pool.fetchval("SELECT count(*) FROM event_channel_positions") == 0
    assert await pool.fetchval("SELECT pruned_position FROM executions WHERE id = 'ex_p'") == 7

"""The watch follower against a real gateway through a connection a test cuts: every event
of the execution arrives once, in position order, across the drop, and it ends at the end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from events import ExecutionCompleted, ExecutionStarted, NodeProgress
from events.outbox import OutboxReader, prune_before
from flowmaestro.watch.follower import Follower, WatchError
from tests.flowmaestro.watch.proxy import CuttableProxy
from tests.gateway.harness import emit, own_execution, serve, token

if TYPE_CHECKING:
    from typing import Any

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from events.outbox import Sequencer

EXECUTION = "ex_follow"


def started() -> ExecutionStarted:
    return ExecutionStarted(
        user_id="u1",
        execution_id=EXECUTION,
        data={
            "workflow_id": "f",
            "status": "running",
            "started_at": "2026-01-01T00:00:00Z",
            "inputs": {},
        },
    )


def step(n: int, execution_id: str = EXECUTION) -> NodeProgress:
    return NodeProgress(
        user_id="u1",
        execution_id=execution_id,
        data={"node_id": "n", "progress": n, "step": str(n)},
    )


def done() -> ExecutionCompleted:
    return ExecutionCompleted(
        user_id="u1", execution_id=EXECUTION, data={"outputs": {}, "duration_ms": 5}
    )


async def sequenced(pool: asyncpg.Pool, count: int) -> None:
    async with asyncio.timeout(30):
        async for stored in OutboxReader(pool, poll_interval=0.1).tail(0):
            if stored.position >= count:
                return


async def test_follows_across_a_dropped_connection_once_in_order(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, EXECUTION, "u1")
    await own_execution(pool, "ex_other", "u1")
    # History from before the watcher connects: it is replayed.
    await emit(pool, started(), *(step(n) for n in range(10)))
    statuses: list[str] = []
    got: list[dict[str, Any]] = []
    async with serve(pool, temporal_env.client) as gateway:
        target = urlsplit(gateway.url)
        assert target.hostname is not None and target.port is not None
        async with CuttableProxy(target.hostname, target.port) as proxy:
            follower = Follower(proxy.url, token("u1"), EXECUTION, statuses.append)
            async with follower:
                events = follower.events()
                async with asyncio.timeout(60):
                    while len(got) < 11:
                        got.append(await anext(events))
                    # Live, with another execution of the same user interleaved (filtered out).
                    await emit(pool, *(step(n) for n in range(10, 20)), step(1, "ex_other"))
                    while len(got) < 21:
                        got.append(await anext(events))
                    proxy.cut()
                    # Emitted while the connection is down: replayed after the reconnect.
                    await emit(pool, *(step(n) for n in range(20, 30)))
                    await emit(pool, done())
                    got += [event async for event in events]

    expected = [
        r[0]
        for r in await pool.fetch(
            "SELECT position FROM event_channel_positions WHERE channel = $1 ORDER BY 1",
            f"execution:{EXECUTION}",
        )
    ]
    assert [e["position"] for e in got] == expected
    assert len(expected) == 32
    assert got[-1]["type"] == "execution:completed"
    assert proxy.connections >= 2
    assert any("lost" in s for s in statuses)


async def test_pruned_history_is_said_and_the_rest_shown(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, EXECUTION, "u1")
    await emit(pool, started(), *(step(n) for n in range(3)))
    await sequenced(pool, 4)
    async with pool.acquire() as con:
        assert await prune_before(con, datetime.now(UTC) + timedelta(seconds=1)) == (4, 4)
    await emit(pool, done())
    statuses: list[str] = []
    async with serve(pool, temporal_env.client) as gateway:
        follower = Follower(gateway.url, token("u1"), EXECUTION, statuses.append)
        async with follower, asyncio.timeout(30):
            got = [event async for event in follower.events()]
    assert [e["type"] for e in got] == ["execution:completed"]
    assert statuses == ["part of this execution's history was pruned; showing what is left"]


async def test_a_refused_token_is_an_error_saying_so(
    pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with serve(pool, temporal_env.client) as gateway:
        follower = Follower(gateway.url, "not-a-token", EXECUTION, print)
        with pytest.raises(WatchError, match="the gateway refused the token: invalid token"):
            await follower.__aenter__()


async def test_another_users_execution_cannot_be_watched(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, EXECUTION, "u2")
    async with serve(pool, temporal_env.client) as gateway:
        follower = Follower(gateway.url, token("u1"), EXECUTION, print)
        async with follower, asyncio.timeout(30):
            with pytest.raises(WatchError, match=f"cannot watch {EXECUTION}: .*forbidden"):
                await anext(follower.events())

"""The client against real gateways: every event of a channel arrives once, in position order,
across a cut connection and across a gateway process killed and started again; it ends at
an execution's end; refusals are errors with their codes."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from flowmaestro.client import Client, ClientError, RefusedError, SubscribeError
from flowmaestro.events import ExecutionCompleted, ExecutionStarted, NodeProgress
from flowmaestro.events.outbox import OutboxReader, prune_before
from flowmaestro.gateway import GatewayConfig, mint_token
from flowmaestro.security import Limits
from tests.flowmaestro.watch.proxy import CuttableProxy
from tests.gateway.harness import SECRET, emit, own_execution, serve, token
from tests.gateway.process import GatewayProcess, gateway_env
from tests.support.clock import FakeClock

if TYPE_CHECKING:
    from typing import Any

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

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
        async with (
            CuttableProxy(target.hostname, target.port) as proxy,
            Client(proxy.url, token("u1"), on_status=statuses.append) as client,
        ):
            events = client.envelopes(EXECUTION, after=0)
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
        client = Client(gateway.url, token("u1"), on_status=statuses.append)
        async with client, asyncio.timeout(30):
            got = [event async for event in client.events(EXECUTION, after=0)]
    assert [e.type for e in got] == ["execution:completed"]
    assert statuses == [
        f"part of the history of execution:{EXECUTION} was pruned; continuing with what is left"
    ]


async def test_a_refused_token_is_an_error_saying_so(
    pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with serve(pool, temporal_env.client) as gateway:
        client = Client(gateway.url, "not-a-token")
        with pytest.raises(RefusedError, match="the gateway refused the token: invalid token"):
            await client.__aenter__()


async def test_another_users_execution_cannot_be_watched(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, EXECUTION, "u2")
    async with (
        serve(pool, temporal_env.client) as gateway,
        Client(gateway.url, token("u1")) as client,
        asyncio.timeout(30),
    ):
        with pytest.raises(SubscribeError, match=f"execution:{EXECUTION}: .*forbidden"):
            await anext(client.events(EXECUTION))


@pytest.mark.slow
async def test_resumes_across_a_gateway_process_killed_and_restarted(
    database_dsn: str, pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, EXECUTION, "u1")
    await emit(pool, started(), *(step(n) for n in range(5)))
    minted: list[str] = []

    async def fresh_token() -> str:
        minted.append(token("u1"))
        return minted[-1]

    statuses: list[str] = []
    got: list[Any] = []
    env = gateway_env(database_dsn, temporal_env.client, "unused")
    async with GatewayProcess(env) as gateway:
        client = Client(gateway.url, fresh_token, on_status=statuses.append)
        async with client, asyncio.timeout(120):
            events = client.events(EXECUTION, after=0)
            while len(got) < 6:
                got.append(await anext(events))
            await emit(pool, *(step(n) for n in range(5, 10)))
            while len(got) < 11:
                got.append(await anext(events))
            await gateway.kill()
            # Emitted while no gateway runs: replayed by the restarted one.
            await emit(pool, *(step(n) for n in range(10, 20)))
            await gateway.start()
            await emit(pool, *(step(n) for n in range(20, 25)), done())
            got += [event async for event in events]
            assert client.connections == 2

    expected = [
        r[0]
        for r in await pool.fetch(
            "SELECT position FROM event_channel_positions WHERE channel = $1 ORDER BY 1",
            f"execution:{EXECUTION}",
        )
    ]
    assert len(expected) == 27
    assert [e.position for e in got] == expected
    assert [e.data.step for e in got if isinstance(e, NodeProgress)] == [str(n) for n in range(25)]
    assert isinstance(got[-1], ExecutionCompleted)
    assert len(minted) >= 2  # a fresh token for every attempt
    assert any("lost" in s for s in statuses)


async def test_a_refused_answer_carries_its_code(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, EXECUTION, "u2")
    async with (
        serve(pool, temporal_env.client) as gateway,
        Client(gateway.url, token("u1")) as client,
    ):
        with pytest.raises(ClientError) as refused:
            await client.provide_input(EXECUTION, "in_1", True)
    assert refused.value.code == "forbidden"


async def test_a_malformed_answer_is_refused_before_it_is_sent() -> None:
    # Never connected: the request is checked against the protocol's model first.
    client = Client("http://127.0.0.1:9", "unused")
    with pytest.raises(ClientError) as refused:
        await client.provide_input(EXECUTION, "", True, wait=0)
    assert refused.value.code == "bad_request"
    assert str(refused.value) == "invalid answer: input_id: String should have at least 1 character"


async def test_a_token_callback_keeps_the_socket_across_its_first_tokens_exp(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, EXECUTION, "u1")
    clock = FakeClock()  # the gateway's: time passes when the test says so
    exps: list[int] = []
    minted = asyncio.Event()

    def fresh() -> str:
        # A token of 600 s on the gateway's clock.
        exps.append(int(clock.time()) + 600)
        minted.set()
        return mint_token(SECRET, "u1", exps[-1] - int(time.time()))

    warning = 2
    config = GatewayConfig(jwt_secret=SECRET, limits=Limits(token_refresh_warning_seconds=warning))
    async with (
        serve(pool, temporal_env.client, config, clock=clock) as gateway,
        Client(gateway.url, fresh) as client,
    ):
        events = client.envelopes(EXECUTION, after=0)
        await emit(pool, step(1))
        async with asyncio.timeout(30):
            assert (await anext(events))["data"]["step"] == "1"
            # Each time just past a token's warning, and before its exp, the client hands in
            # a fresh one; three refreshes take it past the first token's exp.
            for _ in range(3):
                await clock.scheduled(exps[-1] - warning)  # the gateway holds the newest
                minted.clear()
                clock.advance(exps[-1] - warning - clock.time() + 1)
                await minted.wait()
            await clock.scheduled(exps[-1] - warning)
            assert clock.time() > exps[0]
            await emit(pool, step(2))
            assert (await anext(events))["data"]["step"] == "2"
        assert client.connections == 1 and client.connected


async def test_a_fixed_token_that_expires_ends_the_follow_with_a_refusal(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, EXECUTION, "u1")
    clock = FakeClock()
    exp = int(clock.time()) + 600  # on the gateway's clock
    config = GatewayConfig(jwt_secret=SECRET, limits=Limits(token_refresh_warning_seconds=1))
    async with (
        serve(pool, temporal_env.client, config, clock=clock) as gateway,
        Client(gateway.url, token("u1", ttl=exp - int(time.time()))) as client,
    ):
        await emit(pool, step(1))
        with pytest.raises(RefusedError) as refused:
            async with asyncio.timeout(30):
                async for envelope in client.envelopes(EXECUTION, after=0):
                    assert envelope["data"]["step"] == "1"
                    clock.advance(exp + 2 - clock.time())  # the follow has begun; now past exp
    assert refused.value.code == "unauthorized"

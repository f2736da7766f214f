"""One user cannot stall a gateway: mallory spends each of her budgets (counted across every
gateway process: the stack runs the gateway's default process count) and is refused with its
code, while carol's socket stays connected, her trivial flow completes within twice its
quiet time and /healthz answers within 200 ms."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest

from flowmaestro.events import NodeProgress
from flowmaestro.events.outbox import sequence_once
from tests.gateway.harness import emit, own_execution
from tests.security.stack import (
    Bystander,
    acks,
    call,
    gateway_stack,
    open_socket,
    refusal_code,
)
from tests.support.processes import Child

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    import asyncpg
    from temporalio.testing import WorkflowEnvironment
    from websockets.asyncio.client import ClientConnection

    from tests.security.stack import Stack

ROOT = Path(__file__).parents[2]
MALLORY = "mallory"
EXECUTION = "ex_mallory"
AGENTS = tuple(f"a{i}" for i in range(20))


pytestmark = pytest.mark.slow


async def history(pool: asyncpg.Pool, count: int, size: int) -> None:
    """`count` events of about `size` bytes on mallory's execution, sequenced."""
    for start in range(0, count, 500):
        await emit(
            pool,
            *(
                NodeProgress(
                    user_id=MALLORY,
                    execution_id=EXECUTION,
                    data={"node_id": "n", "progress": 1, "step": f"{i:06}" + "x" * size},
                )
                for i in range(start, min(count, start + 500))
            ),
        )
    async with pool.acquire() as con:
        while (await sequence_once(con)).numbered:
            pass


async def sockets(stack: Stack, count: int) -> list[ClientConnection]:
    opened = []
    for _ in range(count):
        ws, answer = await open_socket(stack.url, MALLORY)
        assert answer.startswith("40{"), answer
        opened.append(ws)
    return opened


def abort(*opened: ClientConnection) -> None:
    """Drop the connections without a close handshake (as a killed client would)."""
    for ws in opened:
        ws.transport.abort()


@contextlib.asynccontextmanager
async def carol(stack: Stack) -> AsyncIterator[tuple[Bystander, float]]:
    async with Bystander(stack) as bystander:
        yield bystander, await bystander.quiet()


async def test_sockets_and_channels_per_user_and_a_disconnect_storm(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    """100 sockets (the most) of 20 agent channels each (2,000, the most), then one more of
    each, then all of them closed at once."""
    await own_execution(pool, EXECUTION, MALLORY, agents=AGENTS)
    async with (
        gateway_stack(database_dsn, temporal_env.client) as stack,
        carol(stack) as (bystander, quiet),
    ):
        opened = await sockets(stack, 100)
        channels = [f"agent:{a}:{EXECUTION}" for a in AGENTS]
        answers = await asyncio.gather(
            *(call(ws, 1, "subscribe", {"channels": channels}) for ws in opened)
        )
        assert all(a["ok"] for a in answers), answers
        extra, answer = await open_socket(stack.url, MALLORY)
        assert refusal_code(answer) == "quota_exceeded"
        assert json.loads(answer[2:])["data"]["details"]["limit"] == "user_max_sockets"
        await extra.close()
        more = await call(opened[0], 2, "subscribe", {"channel": f"execution:{EXECUTION}"})
        assert more["error"]["code"] == "quota_exceeded", more
        assert more["error"]["details"]["limit"] == "user_max_channels"
        # An invented agent never becomes a room.
        invented = await call(opened[1], 2, "subscribe", {"channel": f"agent:zz:{EXECUTION}"})
        assert invented["error"]["code"] == "not_found", invented
        await bystander.served(quiet)
        abort(*opened)  # the disconnect storm
        await bystander.served(quiet)
        # Every socket's share comes back: mallory may connect again.
        async with asyncio.timeout(10):
            while True:
                ws, answer = await open_socket(stack.url, MALLORY)
                await ws.close()
                if answer.startswith("40{"):
                    break


async def test_sse_streams_that_never_read_are_bounded_per_user(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with (
        gateway_stack(database_dsn, temporal_env.client) as stack,
        carol(stack) as (bystander, quiet),
    ):
        streams = [
            await unread_stream(stack, "/api/stream?channel=user:mallory") for _ in range(50)
        ]
        async with httpx.AsyncClient(base_url=stack.url) as http:
            refused = await http.get(
                "/api/stream", params={"channel": "user:mallory"}, headers=stack.auth(MALLORY)
            )
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "quota_exceeded"
        assert refused.json()["error"]["details"]["limit"] == "user_max_streams"
        await bystander.served(quiet)
        for writer in streams:
            writer.close()


async def unread_stream(stack: Stack, path: str) -> asyncio.StreamWriter:
    """An SSE request of mallory's whose answer is never read past its status line."""
    parts = urlsplit(stack.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    auth = stack.auth(MALLORY)["Authorization"]
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: {auth}\r\n\r\n".encode()
    )
    status = await asyncio.wait_for(reader.readline(), 30)
    assert status.startswith(b"HTTP/1.1 200"), status
    return writer


async def test_concurrent_replays_are_bounded_per_user(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    """Two sockets replay a 24 MB history and stop reading (their replays wait on them);
    a third replay is refused."""
    await own_execution(pool, EXECUTION, MALLORY)
    await history(pool, 3000, 8000)
    async with (
        gateway_stack(database_dsn, temporal_env.client, user_max_replays=2) as stack,
        carol(stack) as (bystander, quiet),
    ):
        stalled = await sockets(stack, 3)
        for ws in stalled[:2]:
            await ws.send(
                "421" + json.dumps(["subscribe", {"channel": f"execution:{EXECUTION}", "after": 0}])
            )
            async with asyncio.timeout(30):  # replaying (presence news may come first)
                while not str(await ws.recv()).startswith('42["node:progress"'):
                    pass
        third = await call(
            stalled[2], 1, "subscribe", {"channel": f"execution:{EXECUTION}", "after": 0}
        )
        assert third["error"]["code"] == "quota_exceeded", third
        assert third["error"]["details"]["limit"] == "user_max_replays"
        await bystander.served(quiet)
        abort(*stalled)


async def test_replayed_bytes_are_bounded_per_user(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    """A 2 MB budget a minute against a 4 MB history, replayed again and again."""
    await own_execution(pool, EXECUTION, MALLORY)
    await history(pool, 1000, 4000)
    async with (
        gateway_stack(
            database_dsn, temporal_env.client, user_replay_bytes_per_minute=2_000_000
        ) as stack,
        carol(stack) as (bystander, quiet),
    ):
        (ws,) = await sockets(stack, 1)
        answer = await call(ws, 1, "subscribe", {"channel": f"execution:{EXECUTION}", "after": 0})
        assert answer["error"]["code"] == "rate_limited", answer
        assert answer["error"]["details"]["limit"] == "user_replay_bytes_per_minute"
        async with httpx.AsyncClient(base_url=stack.url) as http:
            refused = await http.get(
                f"/api/executions/{EXECUTION}/stream",
                params={"after": 0},
                headers=stack.auth(MALLORY),
            )
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "rate_limited"
            assert int(refused.headers["Retry-After"]) >= 1
        await bystander.served(quiet)
        await ws.close()


async def test_a_presence_flood_is_rate_limited(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    """10 sockets cycling subscribe/unsubscribe on a channel with presence (about 100
    joins a second against 20)."""
    await own_execution(pool, EXECUTION, MALLORY)
    async with (
        gateway_stack(database_dsn, temporal_env.client) as stack,
        Bystander(stack) as bystander,
        flooding(stack, "presence", 10) as attacker,
    ):
        line = await attacker.wait_output("refused", timeout=30)
        assert line == "refused rate_limited user_presence_changes_per_second", line
        await bystander.served_between(*pausing(attacker))
    assert attacker.count("refused") == 1, attacker.output


async def test_a_read_flood_is_rate_limited(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    """4 clients reading 10 times a second each, against a budget of 5 a second (the
    default's 50 would need a flood that only measures this machine's two cores)."""
    await own_execution(pool, EXECUTION, MALLORY)
    async with (
        gateway_stack(
            database_dsn, temporal_env.client, user_reads_per_second=5, user_read_burst=20
        ) as stack,
        Bystander(stack) as bystander,
        flooding(stack, "reads", 4) as attacker,
    ):
        line = await attacker.wait_output("refused", timeout=30)
        assert line == "refused rate_limited user_reads_per_second", line
        await bystander.served_between(*pausing(attacker))
    assert attacker.count("refused") == 1, attacker.output


def pausing(attacker: Child) -> tuple[Callable[[], None], Callable[[], None]]:
    """Stop and continue the attacker's process (SIGSTOP, SIGCONT)."""
    return (
        lambda: attacker.proc.send_signal(signal.SIGSTOP),
        lambda: attacker.proc.send_signal(signal.SIGCONT),
    )


@contextlib.asynccontextmanager
async def flooding(stack: Stack, kind: str, count: int) -> AsyncIterator[Child]:
    """tests/security/attacker.py flooding as mallory in its own process (paused and resumed
    by signals), stopped at the end."""
    args = (sys.executable, "-m", "tests.security.attacker", kind, stack.url, EXECUTION, count)
    async with Child(*map(str, args), cwd=ROOT, name=f"{kind} flood") as attacker:
        await attacker.wait_output("flooding", timeout=60)
        yield attacker


async def test_socket_messages_are_bounded_per_user(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    """Many sockets, each within its own frame budget, together past the user's (a budget
    of 2 a second, bursts of 5)."""
    async with (
        gateway_stack(
            database_dsn,
            temporal_env.client,
            user_messages_per_second=2,
            user_message_burst=5,
        ) as stack,
        carol(stack) as (bystander, quiet),
    ):
        opened = await sockets(stack, 6)
        for ws in opened:
            for i in range(1, 5):
                await ws.send(f"42{i}" + json.dumps(["subscribe", {"channel": "user:mallory"}]))
        answers = [a for ws in opened for a in (await acks(ws, [1, 2, 3, 4])).values()]
        refusals = [a["error"] for a in answers if not a["ok"]]
        assert refusals, answers
        assert {(r["code"], r["details"]["limit"]) for r in refusals} == {
            ("rate_limited", "user_messages_per_second")
        }
        await bystander.served(quiet)
        abort(*opened)

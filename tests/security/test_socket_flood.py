"""Socket budget: every frame a client sends costs a token, pings and refused messages
included; a client that floods past being told `rate_limited` is disconnected."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.security.stack import gateway_stack, open_socket, still_serving

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment
    from websockets.asyncio.client import ClientConnection

BURST = 10
# Slow enough that the bucket refills by less than one token during a test's burst.
LIMITS: dict[str, Any] = {"socket_messages_per_second": 0.2, "socket_message_burst": BURST}


async def raw_socket(url: str, user: str) -> ClientConnection:
    """An Engine.IO/Socket.IO client by hand, connected to namespace `/` (2 frames spent)."""
    ws, answer = await open_socket(url, user)
    assert answer.startswith("40{"), answer
    return ws


async def acks(ws: ClientConnection, count: int) -> dict[int, dict[str, object]]:
    """The next `count` acks by id, and the `error` events (as id -1, the last one)."""
    got: dict[int, dict[str, object]] = {}
    async with asyncio.timeout(20):
        while len(got) < count:
            frame = str(await ws.recv())
            if frame.startswith("43"):
                head, _, body = frame[2:].partition("[")
                got[int(head)] = json.loads("[" + body)[0]
    return got


@pytest.mark.slow
async def test_refused_messages_spend_the_budget_too(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with gateway_stack(database_dsn, temporal_env.client, **LIMITS) as stack:
        ws = await raw_socket(stack.url, "mallory")  # the CONNECT took one token
        malformed = BURST - 1
        for i in range(malformed):  # unknown namespace: refused, yet charged
            await ws.send(f"42/nope,{i}" + json.dumps(["subscribe", {"channel": "user:m"}]))
        await ws.send(f"42{malformed}" + json.dumps(["subscribe", {"channel": "user:mallory"}]))
        answered, _ = await asyncio.gather(acks(ws, malformed + 1), still_serving(stack))
        # Refusals for the bad namespace carry no ack (it was not parsed for one): only the
        # well-formed subscribe is acked, and the budget it found was spent.
        assert answered[malformed]["ok"] is False
        assert answered[malformed]["error"]["code"] == "rate_limited"  # type: ignore[index]
        await ws.close()


@pytest.mark.slow
async def test_a_ping_flood_gets_the_socket_cut(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with gateway_stack(database_dsn, temporal_env.client, **LIMITS) as stack:
        ws = await raw_socket(stack.url, "mallory")
        flood = asyncio.create_task(_ping_flood(ws))
        # Cut long before engine.io's ping timeout (45 s) could have closed it.
        await asyncio.gather(asyncio.wait_for(ws.wait_closed(), 20), still_serving(stack))
        await asyncio.wait_for(flood, 20)
        # The gateway stays up for everyone, the flooder included once it behaves.
        fresh = await raw_socket(stack.url, "mallory")
        await fresh.close()


async def _ping_flood(ws: ClientConnection) -> None:
    """engine.io PINGs (never answered in the websocket transport) until the socket is cut."""
    try:
        while True:
            await ws.send("2")
            await asyncio.sleep(0)  # let the close be noticed between frames
    except ConnectionClosed:
        return

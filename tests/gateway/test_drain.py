"""SIGTERM drains a gateway: behind the compose nginx, its clients are handed to the other
gateway one by one over FLOWMAESTRO_DRAIN_SECONDS (not in one herd), resume by position,
and every client ends with every event of its channel once, in order, while events flow
throughout. /readyz says `draining` meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from flowmaestro.client import Client
from tests.events.outbox.helpers import until
from tests.flowmaestro.topology import NGINX, nginx
from tests.gateway.harness import emit, progress, token
from tests.gateway.process import GatewayProcess, gateway_env

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(180),
    pytest.mark.skipif(NGINX is None, reason="drain test skipped: nginx is not installed"),
]

CLIENTS = 16
DRAIN = 4.0


async def eventually(check: Callable[[], bool], timeout: float) -> None:
    """Poll in-process state that several clients change (no one event to await)."""
    await until(lambda: asyncio.sleep(0, result=check()), timeout)


class Follower:
    """One client following the user's channel from the start, noting when it was cut."""

    def __init__(self, url: str, user: str, tls: Any) -> None:
        self.lost: list[float] = []
        self.client = Client(url, token(user), tls=tls, on_status=self._status)
        self.channel = f"user:{user}"
        self.positions: list[int] = []
        self.subscribed = asyncio.Event()

    def _status(self, message: str) -> None:
        if "lost" in message:
            self.lost.append(time.monotonic())

    async def run(self) -> None:
        async for envelope in self.client.envelopes(
            self.channel, after=0, on_subscribed=lambda _: self.subscribed.set()
        ):
            self.positions.append(envelope["position"])


async def test_sigterm_hands_the_sockets_to_the_other_gateway_spread_and_lossless(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    user = f"drain-{uuid.uuid4().hex[:8]}"
    env = {
        **gateway_env(database_dsn, temporal_env.client, "drain"),
        "FLOWMAESTRO_GATEWAY_WORKERS": "1",
        "FLOWMAESTRO_DRAIN_SECONDS": str(DRAIN),
    }
    step = 0

    async def load(stop: asyncio.Event) -> None:
        nonlocal step
        while not stop.is_set():
            await emit(pool, *(progress(user, "ex_drain", step + i) for i in range(5)))
            step += 5
            # Paces the load; nothing is awaited on it.
            await asyncio.sleep(0.05)

    async with (
        GatewayProcess(env) as first,
        GatewayProcess(env) as second,
        nginx([first.port, second.port], tmp_path / "nginx") as edge,
        contextlib.AsyncExitStack() as stack,
    ):
        followers = [Follower(edge.url, user, edge.tls) for _ in range(CLIENTS)]
        tasks = []
        for follower in followers:
            await stack.enter_async_context(follower.client)
            tasks.append(asyncio.create_task(follower.run()))
            await asyncio.wait_for(follower.subscribed.wait(), 30)
        stop = asyncio.Event()
        loading = asyncio.create_task(load(stop))
        try:
            await eventually(lambda: all(f.positions for f in followers), 30)
            started = time.monotonic()
            code = await first.stop(signal.SIGTERM, timeout=DRAIN + 30)
            took = time.monotonic() - started
            await eventually(lambda: all(f.client.connected for f in followers), 30)
            before = step
            await eventually(lambda: step >= before + 50, 30)
        finally:
            stop.set()
            await loading
        unsequenced = "SELECT count(*) = 0 FROM event_outbox WHERE position IS NULL"
        await until(lambda: pool.fetchval(unsequenced), 60)
        expected = [
            r[0]
            for r in await pool.fetch(
                "SELECT position FROM event_channel_positions WHERE channel = $1 ORDER BY 1",
                f"user:{user}",
            )
        ]
        assert len(expected) == step
        await eventually(lambda: all(len(f.positions) >= len(expected) for f in followers), 60)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    assert code == 0, first.output
    drained = [f for f in followers if f.lost]
    # Round robin put about half the clients on the first gateway.
    assert 2 <= len(drained) < CLIENTS, len(drained)
    for follower in followers:
        assert follower.positions == expected, "an event lost, doubled or out of order"
        assert len(follower.lost) <= 1
        assert follower.client.connections == 1 + len(follower.lost)
    cuts = sorted(f.lost[0] for f in drained)
    # Spread over the window: the cuts span most of it, and few come in the first 250 ms.
    span = cuts[-1] - cuts[0]
    assert span >= DRAIN * (len(cuts) - 1) / len(cuts) * 0.5, (span, cuts)
    assert sum(c - cuts[0] < 0.25 for c in cuts) <= max(1, len(cuts) // 3), cuts
    assert DRAIN * 0.5 <= took <= DRAIN + 25, took
    assert first.count("draining") >= 1, first.output

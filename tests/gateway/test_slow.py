"""A client that stops reading is disconnected with reason `slow`; others are unaffected."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from flowmaestro.events import NodeProgress
from flowmaestro.gateway import GatewayConfig
from flowmaestro.security import Limits
from tests.gateway.harness import (
    SECRET,
    Recorder,
    emit,
    has_events,
    own_execution,
    serve,
    token,
)

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment
    from websockets.asyncio.client import ClientConnection

    from flowmaestro.events.outbox import Sequencer

EVENTS = 2000


async def stalled(url: str, user: str) -> ClientConnection:
    """A raw Engine.IO/Socket.IO client that connects, then never reads: a tiny receive
    buffer and a one-message queue make the kernel push back on the server at once."""
    parts = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname, parts.port))
    ws = await connect(
        f"ws://{parts.netloc}/socket.io/?EIO=4&transport=websocket",
        sock=sock,
        max_queue=1,
        ping_interval=None,
    )
    assert str(await ws.recv()).startswith("0{")  # engine.io open
    await ws.send("40" + json.dumps({"token": token(user)}))
    assert str(await ws.recv()).startswith("40{")  # socket.io connect
    return ws


def bulky(i: int) -> NodeProgress:
    return NodeProgress(
        user_id="u1",
        execution_id="ex_s",
        data={"node_id": "n", "progress": 1, "step": f"{i}:" + "x" * 2000},
    )


@pytest.mark.slow
async def test_a_client_that_stops_reading_is_dropped_as_slow(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    await own_execution(pool, "ex_s", "u1")
    config = GatewayConfig(jwt_secret=SECRET, limits=Limits(socket_max_queue=50))
    async with serve(pool, temporal_env.client, config, send_buffer=32 * 1024) as running:
        healthy = await Recorder().connect(running.url, "u1")
        slow = await stalled(running.url, "u1")
        for start in range(0, EVENTS, 10):
            # Paced by the healthy client's progress, so only the stalled one falls behind.
            await emit(pool, *(bulky(i) for i in range(start, start + 10)))
            await healthy.wait_until(has_events(start + 10))
        positions = healthy.positions()
        assert positions == sorted(set(positions)) and len(positions) == EVENTS
        assert healthy.disconnects == []
        metrics = running.app.metrics
        assert metrics.disconnects.labels("slow")._value.get() == 1
        assert metrics.failed_deliveries.labels("slow")._value.get() == 1
        # Reading again, the stalled client finds what was buffered, then the end.
        received = 0
        async with asyncio.timeout(30):
            try:
                while True:
                    received += str(await slow.recv()).startswith('42["node:progress"')
            except ConnectionClosed:
                pass
        assert 0 < received < EVENTS
        await healthy.close()

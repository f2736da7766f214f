"""docker-compose.yml's topology run for real, without Docker: Debian's nginx (config made
from deploy/nginx.conf), two `flowmaestro gateway` and two `flowmaestro worker` processes,
Postgres and the Temporal dev server. Clients connect through nginx, over WebSocket (the
Python client) and over the SSE fallback; one gateway and one worker are killed (SIGKILL)
mid-run: every client still gets every event of the user's channel once, in order, and the
other worker finishes every execution."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from flowmaestro.events import UserInputRequired
from tests.flowmaestro.topology import (
    NGINX,
    all_completed,
    assert_exactly_the_database,
    follow,
    nginx,
)
from tests.gateway.harness import token
from tests.gateway.process import GatewayProcess, gateway_env
from tests.support.processes import FLOWMAESTRO, Child

if TYPE_CHECKING:
    from pathlib import Path

    import asyncpg
    from temporalio.testing import WorkflowEnvironment


pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(
        NGINX is None,
        reason="topology test skipped: nginx is not installed (apt-get install nginx)",
    ),
]

# Long enough that the kills land mid-run; a killed worker's node is retried on the other
# once its heartbeat is missed.
FLOW = {
    "name": "topology",
    "inputs": {"n": {"type": "number"}},
    "nodes": [
        {"id": "begin", "type": "transform", "config": {"output": "{{ inputs.n }}"}},
        {
            "id": "wait",
            "type": "delay",
            "after": ["begin"],
            "heartbeat_timeout_seconds": 2,
            "config": {"seconds": 6, "reports": 6},
        },
        {
            "id": "end",
            "type": "transform",
            "after": ["wait"],
            "config": {"output": "{{ nodes.begin }}"},
        },
    ],
}


async def test_the_compose_topology_survives_a_gateway_and_a_worker_killed(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"topology-{tmp_path.name[-8:]}"
    env = gateway_env(database_dsn, temporal_env.client, queue)
    workers = [
        Child(FLOWMAESTRO, "worker", env={**os.environ, **env}, log=tmp_path / f"worker-{i}.log")
        for i in (1, 2)
    ]
    for worker in workers:
        await worker.start()
    followers: list[asyncio.Task[None]] = []
    try:
        async with (
            GatewayProcess(env) as gateway_1,
            GatewayProcess(env) as gateway_2,
            nginx([gateway_1.port, gateway_2.port], tmp_path / "nginx") as edge,
        ):
            # Two of each kind, opened back to back: round robin puts one on each gateway.
            sockets, streams = await follow(edge, "u1", 2, followers)

            headers = {"Authorization": f"Bearer {token('u1')}"}
            async with httpx.AsyncClient(
                base_url=edge.url, headers=headers, timeout=30, verify=edge.tls
            ) as http:
                ids = set()
                for n in range(4):
                    started = await http.post(
                        "/api/executions", json={"flow": FLOW, "inputs": {"n": n}}
                    )
                    assert started.status_code == 201, started.text
                    ids.add(started.json()["executionId"])
                asks = {}
                for amount in (500, 600):
                    started = await http.post(
                        "/api/executions", json={"flow": "approval", "inputs": {"amount": amount}}
                    )
                    assert started.status_code == 201, started.text
                    asks[amount] = started.json()["executionId"]
                ids |= set(asks.values())

                def prompted(events: list[dict[str, Any]]) -> bool:
                    return (
                        len(
                            {e["executionId"] for e in events if e["type"] == "user_input:required"}
                        )
                        == 2
                    )

                def delaying(events: list[dict[str, Any]]) -> bool:
                    return (
                        len(
                            {
                                e["executionId"]
                                for e in events
                                if e["type"] == "node:progress" and e["data"]["nodeId"] == "wait"
                            }
                        )
                        == 4
                    )

                await streams[0].wait_for(lambda e: prompted(e) and delaying(e), 60)
                # Mid-run: one gateway and one worker die without a word.
                await gateway_1.kill()
                await workers[0].kill()

                # One prompt answered over the WebSocket, the other over HTTP (the fallback).
                prompts = {
                    e.execution_id: e.data.input_id
                    for e in sockets[0].events
                    if isinstance(e, UserInputRequired)
                }
                await sockets[0].client.provide_input(asks[500], prompts[asks[500]], True)
                answered = await http.post(
                    f"/api/executions/{asks[600]}/inputs/{prompts[asks[600]]}",
                    json={"value": False},
                )
                assert answered.status_code == 200, answered.text

                await all_completed(ids, sockets, streams, 120)
            await assert_exactly_the_database(pool, "user:u1", sockets, streams)
            # Someone was on the killed gateway and moved to the other one.
            assert max(socket.client.connections for socket in sockets) == 2
            assert max(stream.opened for stream in streams) >= 2
            for socket in sockets:
                await socket.client.__aexit__(None, None, None)
    finally:
        for task in followers:
            task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
        for worker in workers:
            await worker.stop()
    outputs = {
        row["id"]: row["status"]
        for row in await pool.fetch(
            "SELECT id, status FROM executions WHERE id = ANY($1)", list(ids)
        )
    }
    assert outputs == dict.fromkeys(ids, "completed")

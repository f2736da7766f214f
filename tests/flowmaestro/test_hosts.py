"""Hosts, not just processes: Postgres, the broker (NATS), Temporal, two workers and nginx on
one host (the root network namespace), one gateway on each of three others (namespaces of
the test's own, each joined by a veth link). Socket.IO and SSE clients spread over the
gateways through nginx follow the user's channel while executions run, and meanwhile: a
gateway host's processes are killed, another host's link is cut for 5 s, the broker restarts
and Postgres restarts. Every client ends with exactly the database's positions, in order,
and every execution completes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest

from tests.broker.servers import BINARIES, broker_server
from tests.faults.postgres import UNAVAILABLE as NO_POSTGRES
from tests.faults.postgres import started_cluster
from tests.flowmaestro.hosts import UNAVAILABLE as NO_HOSTS
from tests.flowmaestro.hosts import forwarded, hosts
from tests.flowmaestro.topology import (
    NGINX,
    all_completed,
    assert_exactly_the_database,
    follow,
    nginx,
)
from tests.gateway.harness import token
from tests.gateway.process import gateway_env
from tests.support.ports import free_port
from tests.support.processes import FLOWMAESTRO, Child

if TYPE_CHECKING:
    from pathlib import Path

    from temporalio.testing import WorkflowEnvironment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed"),
    pytest.mark.skipif(NO_HOSTS is not None, reason=f"no hosts: {NO_HOSTS}"),
    pytest.mark.skipif(NO_POSTGRES is not None, reason=f"no own Postgres: {NO_POSTGRES}"),
    pytest.mark.skipif(BINARIES["nats"] is None, reason="nats-server is not installed"),
]

# Long enough that every fault lands while the executions run.
FLOW = {
    "name": "hosts",
    "inputs": {"n": {"type": "number"}},
    "nodes": [
        {"id": "begin", "type": "transform", "config": {"output": "{{ inputs.n }}"}},
        {
            "id": "wait",
            "type": "delay",
            "after": ["begin"],
            "heartbeat_timeout_seconds": 5,
            "config": {"seconds": 30, "reports": 30},
        },
        {"id": "end", "type": "transform", "after": ["wait"], "config": {"output": "done"}},
    ],
}
EXECUTIONS = 6


async def test_three_gateway_hosts_survive_a_killed_host_a_cut_link_and_restarts(
    temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    cluster = await started_cluster()
    ports = {name: free_port() for name in ("postgres", "temporal", "nats")}
    temporal_port = int(temporal_env.client.service_client.config.target_host.split(":")[1])
    processes: list[Child] = []
    followers: list[asyncio.Task[None]] = []
    try:
        dsn = await cluster.create_database("hosts")
        async with (
            broker_server("nats") as nats,
            hosts(3) as net,
            forwarded(ports["postgres"], cluster.port),
            forwarded(ports["temporal"], temporal_port),
            forwarded(ports["nats"], nats.port),
            asyncpg.create_pool(dsn, min_size=1, max_size=2) as pool,
        ):
            queue = f"hosts-{uuid.uuid4().hex[:8]}"
            here = {
                **os.environ,
                **gateway_env(dsn, temporal_env.client, queue),
                "FLOWMAESTRO_BROKER_URL": nats.url,
            }
            for i in (1, 2):
                processes.append(
                    Child(FLOWMAESTRO, "worker", env=here, log=tmp_path / f"worker-{i}.log")
                )
            gateways = []
            for host in net:
                # The host reaches the database host's services at its side of the link.
                there = {
                    **here,
                    "FLOWMAESTRO_DATABASE_URL": dsn.replace(
                        f"127.0.0.1:{cluster.port}", f"{host.gateway}:{ports['postgres']}"
                    ),
                    "FLOWMAESTRO_TEMPORAL_ADDRESS": f"{host.gateway}:{ports['temporal']}",
                    "FLOWMAESTRO_BROKER_URL": f"nats://{host.gateway}:{ports['nats']}",
                    "FLOWMAESTRO_RUN_SEQUENCER": "false",  # the workers' host numbers
                    "FLOWMAESTRO_GATEWAY_WORKERS": "1",
                }
                argv = host.argv(FLOWMAESTRO, "gateway", "--host", host.ip, "--port", "8000")
                gateway = Child(*argv, env=there, log=tmp_path / f"{host.name}.log", name=host.name)
                gateways.append(gateway)
                processes.append(gateway)
            for process in processes:
                await process.start()
            for gateway in gateways:
                await gateway.wait_output("Uvicorn running on", timeout=120)
            async with nginx([f"{h.ip}:8000" for h in net], tmp_path / "nginx") as edge:
                # Three of each kind: round robin spreads them over the hosts.
                sockets, streams = await follow(edge, "u1", 3, followers)

                headers = {"Authorization": f"Bearer {token('u1')}"}
                async with httpx.AsyncClient(
                    base_url=edge.url, headers=headers, timeout=60, verify=edge.tls
                ) as http:
                    ids = set()
                    for n in range(EXECUTIONS):
                        started = await http.post(
                            "/api/executions", json={"flow": FLOW, "inputs": {"n": n}}
                        )
                        assert started.status_code == 201, started.text
                        ids.add(started.json()["executionId"])

                def delaying(events: list[dict[str, Any]]) -> bool:
                    waiting = {
                        e["executionId"]
                        for e in events
                        if e["type"] == "node:progress" and e["data"]["nodeId"] == "wait"
                    }
                    return len(waiting) == EXECUTIONS

                await streams[0].wait_for(delaying, 120)
                await gateways[0].kill()  # a gateway host's processes die without a word
                net[1].cut()
                await asyncio.sleep(5)  # the fault itself: 5 s without a link
                net[1].mend()
                await nats.stop()
                await nats.start()
                await asyncio.to_thread(cluster.restart)

                await all_completed(ids, sockets, streams, 240)
                await assert_exactly_the_database(pool, "user:u1", sockets, streams)
                for socket in sockets:
                    await socket.client.__aexit__(None, None, None)
            statuses = await pool.fetch(
                "SELECT id, status FROM executions WHERE id = ANY($1)", list(ids)
            )
            assert {r["id"]: r["status"] for r in statuses} == dict.fromkeys(ids, "completed")
            # The broker's restart sent the surviving gateways to Postgres and back (a gateway
            # whose feed was inside a read for the whole outage may not have noticed it).
            switches = [g.count("broker lost") + g.count("broker back") for g in gateways[1:]]
            assert max(switches) >= 2, "\n".join(g.output[-3000:] for g in gateways[1:])
    finally:
        for task in followers:
            task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
        for process in processes:
            with contextlib.suppress(Exception):
                await process.stop()
        await asyncio.to_thread(cluster.destroy)

"""Processes die: the worker and a gateway are SIGKILLed, the sequencer's leader is killed,
the Temporal dev server restarts. Every execution completes and a resuming client gets
every event exactly once."""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from flowmaestro.events.outbox.sequencer import LOCK_KEY
from tests.faults.executions import NODE_FLOW, check_all, check_once, start_all
from tests.faults.postgres import UNAVAILABLE
from tests.faults.stack import TERMINAL, running_stack

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from tests.faults.stack import Stack

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(UNAVAILABLE is not None, reason=UNAVAILABLE or ""),
]

MANY_EVENTS: dict[str, Any] = {
    "name": "many-events",
    "nodes": [
        {"id": f"n{i}", "type": "delay", "config": {"seconds": 0.5, "reports": 100}}
        for i in range(8)
    ],
}


@pytest.mark.timeout(150)
async def test_the_temporal_server_restarts(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        assert stack.worker is not None
        worker_pid = stack.worker.pid
        executions = await start_all(stack)
        await stack.temporal_server.stop()
        async with httpx.AsyncClient(timeout=10) as http:
            # The gateway stays in service, degraded (events still flow from Postgres); the
            # worker, which cannot work without Temporal, is not ready.
            for url, code, status in (
                (stack.url(), 200, "degraded"),
                (f"http://127.0.0.1:{stack.worker_health_port}", 503, "unavailable"),
            ):
                ready = await http.get(f"{url}/readyz")
                assert ready.status_code == code, ready.text
                assert ready.json()["status"] == status, ready.text
                assert list(ready.json()["reasons"]) == ["temporal"], ready.text
                metrics = (await http.get(f"{url}/metrics")).text
                assert 'flowmaestro_dependency_up{dependency="temporal"} 0.0' in metrics
        await stack.temporal_server.start()  # the same database file and port
        await stack.temporal_ready()
        await executions.answer(stack)
        await check_all(stack, executions)
        # The same worker process reconnected by itself, and logged each change of state
        # (a slow probe on a loaded machine may be one more outage), ending with "back".
        assert stack.worker.pid == worker_pid and stack.worker.returncode is None
        async with httpx.AsyncClient(timeout=10) as http:
            # A probe now, so the worker has seen Temporal back (its watch runs every 5 s).
            ready = await http.get(f"http://127.0.0.1:{stack.worker_health_port}/readyz")
        assert ready.status_code == 200, ready.text
        log = stack.worker.output
        changes = re.findall(r"temporal (lost|back)", log)
        assert changes[:1] == ["lost"] and changes[-1:] == ["back"], log
        assert changes == ["lost", "back"] * (len(changes) // 2), log
        assert "Traceback" not in log, log


@pytest.mark.timeout(150)
async def test_the_worker_is_killed(tmp_path: Path) -> None:
    flow = {
        "name": "survive-a-kill",
        "nodes": [
            {
                "id": "wait",
                "type": "delay",
                "config": {"seconds": 4, "reports": 8},
                "heartbeat_timeout_seconds": 1,
                "retry": {"initial_interval_seconds": 0.2},
            },
            {"id": "after", "type": "transform", "after": ["wait"], "config": {"output": 1}},
        ],
    }
    async with running_stack(tmp_path) as stack:
        execution_id = await stack.start(flow)
        await stack.wait_event(execution_id, ("node:progress",), "wait")
        assert stack.worker is not None
        await stack.worker.kill()
        await stack.start_worker("worker2")
        events = await stack.finished(execution_id)
        assert events[-1]["type"] == "execution:completed", stack.logs()
        wait = [e for e in events if e["data"].get("nodeId") == "wait"]
        # The killed attempt could not end itself: the next one ended it, then resumed from
        # its checkpoint.
        assert [
            (e["type"], e["data"]["attempt"], e["data"].get("willRetry"))
            for e in wait
            if "attempt" in e["data"]
        ] == [("node:started", 1, None), ("node:failed", 1, True), ("node:started", 2, None)]
        [lost] = [e["data"] for e in wait if e["type"] == "node:failed"]
        assert lost["error"]["type"] == "attempt_lost"
        assert [e["data"]["progress"] for e in wait if "progress" in e["data"]] == [
            100 * i / 8 for i in range(1, 9)
        ]
        over_http = await stack.http_events(execution_id)
        assert [e["id"] for e in over_http] == [e["id"] for e in events]


@pytest.mark.timeout(150)
async def test_the_sequencer_leader_is_killed(tmp_path: Path) -> None:
    async with running_stack(tmp_path, gateways=2, worker_sequencer=False) as stack:
        execution_id = await stack.start(NODE_FLOW)
        await stack.wait_event(execution_id, ("node:progress",), "wait")
        leader = await stack.query(
            lambda pool: pool.fetchval(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                " WHERE l.locktype = 'advisory' AND l.granted"
                " AND l.classid = $1 AND l.objid = $2",
                LOCK_KEY >> 32,
                LOCK_KEY & 0xFFFFFFFF,
            )
        )
        index = [g.name for g in stack.gateways].index(leader)
        await stack.gateways[index].kill()
        survivor = 1 - index
        events = await stack.finished(execution_id)
        assert events[-1]["type"] == "execution:completed", stack.logs()
        await check_once(stack, execution_id, events, index=survivor)
        positions = await stack.query(
            lambda pool: pool.fetch("SELECT position FROM event_outbox ORDER BY position")
        )
        assert [p for (p,) in positions] == list(range(1, len(positions) + 1))


@pytest.mark.timeout(150)
async def test_a_gateway_is_killed_during_a_replay(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        execution_id = await stack.start(MANY_EVENTS)
        events = await stack.finished(execution_id)
        assert len(events) > 800
        got: list[tuple[int, str]] = []
        async with _sse(stack, execution_id, {"after": "0"}) as lines:
            async for frame in _frames(lines):
                got.append(frame)
                if len(got) == 200:
                    break
            # The replay is half-read (the rest waits in the gateway): kill it now.
            await stack.gateways[0].kill()
        await stack.restart_gateway(0)
        async with _sse(stack, execution_id, {}, last_event_id=got[-1][0]) as lines:
            async for frame in _frames(lines):
                got.append(frame)
                if frame[1] in TERMINAL:
                    break
        assert [position for position, _ in got] == [e["position"] for e in events]


@contextlib.asynccontextmanager
async def _sse(
    stack: Stack, execution_id: str, params: dict[str, str], last_event_id: int | None = None
) -> AsyncIterator[AsyncIterator[str]]:
    """The execution's SSE stream from the first gateway, as lines."""
    headers = dict(stack.auth)
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    async with (
        httpx.AsyncClient(base_url=stack.url(), timeout=30) as http,
        http.stream(
            "GET", f"/api/executions/{execution_id}/stream", params=params, headers=headers
        ) as response,
    ):
        assert response.status_code == 200
        yield response.aiter_lines()


async def _frames(lines: AsyncIterator[str]) -> AsyncIterator[tuple[int, str]]:
    """(position, type) of each event frame."""
    position: int | None = None
    async for line in lines:
        if line.startswith("id: "):
            position = int(line[4:])
        elif line.startswith("event: ") and position is not None:
            yield position, line[7:]
            position = None

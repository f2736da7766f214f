"""Postgres restarts, or crashes for 5 s or 60 s, while a node runs, an agent streams, a
knowledge base ingests and a prompt waits: every execution completes with the default retry
policies (no attempt spent), every event is written once, /readyz says why it is not ready
meanwhile, and the worker logs the outage once and its end once."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.faults.executions import check_all, start_all
from tests.faults.postgres import UNAVAILABLE
from tests.faults.stack import running_stack
from tests.support.processes import ready

if TYPE_CHECKING:
    from pathlib import Path

    from tests.faults.stack import Stack


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(UNAVAILABLE is not None, reason=UNAVAILABLE or ""),
]


async def _unready(url: str) -> dict[str, str]:
    """A process's /readyz while Postgres is away: 503 and the reasons (it probes at once);
    its metrics then show the outage."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        response = await http.get("/readyz")
        assert response.status_code == 503, response.text
        metrics = (await http.get("/metrics")).text
    assert 'flowmaestro_dependency_up{dependency="postgres"} 0.0' in metrics, metrics
    assert 'flowmaestro_dependency_up{dependency="temporal"} 1.0' in metrics, metrics
    reasons: dict[str, str] = response.json()["reasons"]
    return reasons


async def _told_to_retry(stack: Stack, execution_id: str) -> None:
    """What the HTTP API answers while Postgres is away: 503 `unavailable`, Retry-After."""
    async with httpx.AsyncClient(base_url=stack.url(), headers=stack.auth, timeout=30) as http:
        response = await http.get(f"/api/executions/{execution_id}")
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable", response.text
    assert response.json()["error"]["details"] == {"dependency": "postgres"}
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.timeout(150)
async def test_a_restart(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        executions = await start_all(stack)
        await asyncio.to_thread(stack.cluster.restart)
        await executions.answer(stack)
        await check_all(stack, executions)
        # The ingestion's chunk write at least was waiting when the server went.
        assert await stack.worker_metric("flowmaestro_write_retries_total") > 0
        assert stack.worker is not None
        assert "Traceback" not in stack.worker.output, stack.worker.output[-5000:]


@pytest.mark.parametrize("downtime", [5, pytest.param(60, marks=pytest.mark.slow)])
@pytest.mark.timeout(300)
async def test_a_crash(tmp_path: Path, downtime: float) -> None:
    async with running_stack(tmp_path) as stack:
        executions = await start_all(stack)
        await asyncio.to_thread(stack.cluster.stop, "immediate")
        crashed = time.monotonic()
        # During the outage: the prompt is answered, and the gateway says it is not ready.
        await executions.answer(stack)
        for url in (stack.url(), f"http://127.0.0.1:{stack.worker_health_port}"):
            reasons = await _unready(url)
            assert reasons["postgres"] and "temporal" not in reasons, reasons
        await _told_to_retry(stack, executions.ids[0])
        # The downtime itself is the point of the test: nothing to await but time.
        await asyncio.sleep(max(0.0, downtime - (time.monotonic() - crashed)))
        await asyncio.to_thread(stack.cluster.start)
        await check_all(stack, executions)
        assert await stack.worker_metric("flowmaestro_write_retries_total") > 0
        assert await stack.worker_metric("flowmaestro_write_deadline_exceeded_total") == 0
        await ready(stack.url(), stack.gateways[0])
        assert stack.worker is not None
        # One line when it went, one when it came back: not a line (or traceback) per retry.
        for log in (stack.worker.output, stack.gateways[0].output):
            assert log.count("postgres lost:") == 1, log[-5000:]
            assert log.count("postgres back after") == 1, log[-5000:]
            assert "Traceback" not in log, log[-5000:]

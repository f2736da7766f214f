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

if TYPE_CHECKING:
    from pathlib import Path

    from tests.faults.stack import Stack

pytestmark = pytest.mark.skipif(UNAVAILABLE is not None, reason=UNAVAILABLE or "")


async def _unready(stack: Stack) -> dict[str, str]:
    """The gateway's /readyz while Postgres is away: 503 and the reason (it probes at once)."""
    async with httpx.AsyncClient(timeout=10) as http, asyncio.timeout(30):
        while True:
            response = await http.get(f"{stack.url()}/readyz")
            if response.status_code == 503:
                reasons: dict[str, str] = response.json()["reasons"]
                return reasons
            await asyncio.sleep(0.1)


@pytest.mark.timeout(150)
async def test_a_restart(tmp_path: Path) -> None:
    async with running_stack(tmp_path) as stack:
        executions = await start_all(stack)
        await asyncio.to_thread(stack.cluster.restart)
        await executions.answer(stack)
        await check_all(stack, executions)


@pytest.mark.parametrize("downtime", [5, 60])
@pytest.mark.timeout(300)
async def test_a_crash(tmp_path: Path, downtime: float) -> None:
    async with running_stack(tmp_path) as stack:
        executions = await start_all(stack)
        await asyncio.to_thread(stack.cluster.stop, "immediate")
        crashed = time.monotonic()
        # During the outage: the prompt is answered, and the gateway says it is not ready.
        await executions.answer(stack)
        reasons = await _unready(stack)
        assert "postgres" in reasons, reasons
        # The downtime itself is the point of the test: nothing to await but time.
        await asyncio.sleep(max(0.0, downtime - (time.monotonic() - crashed)))
        await asyncio.to_thread(stack.cluster.start)
        await check_all(stack, executions)
        assert await stack.worker_metric("flowmaestro_write_retries_total") > 0
        assert await stack.worker_metric("flowmaestro_write_deadline_exceeded_total") == 0
        await stack.ready(stack.url(), stack.gateways[0])
        assert stack.worker is not None
        log = stack.worker.text()
        assert log.count("postgres lost:") == 1, log[-5000:]
        assert log.count("postgres back after") == 1, log[-5000:]
        assert "Traceback" not in log, log[-5000:]

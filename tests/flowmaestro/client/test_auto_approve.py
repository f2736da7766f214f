"""examples/auto_approve.py against a real stack (gateway, worker, Temporal, Postgres): of two
approval flows, the one under the threshold is approved and the other rejected."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from flowmaestro.gateway import GatewayConfig
from tests.gateway.harness import SECRET, serve, token
from tests.workflows.helpers import EXAMPLES, events_until, worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

SCRIPT = Path(__file__).resolve().parents[3] / "examples" / "auto_approve.py"


@pytest.mark.slow
async def test_approves_under_the_threshold_and_rejects_the_rest(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    client = temporal_env.client
    async with worker(client, pool) as queue:
        config = GatewayConfig(jwt_secret=SECRET, task_queue=queue, flows_dir=EXAMPLES)
        async with serve(pool, client, config) as gateway:
            script = await asyncio.create_subprocess_exec(
                sys.executable,
                str(SCRIPT),
                *("--url", gateway.url, "--threshold", "300", "--count", "2"),
                env={**os.environ, "FLOWMAESTRO_TOKEN": token("u1")},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                assert script.stdout is not None
                async with asyncio.timeout(60):
                    ready = await script.stdout.readline()
                assert ready.startswith(b"watching the prompts of u1"), ready
                headers = {"Authorization": f"Bearer {token('u1')}"}
                async with httpx.AsyncClient(base_url=gateway.url, headers=headers) as http:
                    ids = {}
                    for amount in (250, 500):
                        started = await http.post(
                            "/api/executions",
                            json={"flow": "approval", "inputs": {"amount": amount}},
                        )
                        assert started.status_code == 201, started.text
                        ids[amount] = started.json()["executionId"]
                async with asyncio.timeout(90):
                    out, err = await script.communicate()
                assert script.returncode == 0, err.decode()
            finally:
                if script.returncode is None:
                    script.kill()
                    await script.wait()
            lines = out.decode().splitlines()
            assert sorted(lines) == sorted(
                [
                    f"approved {ids[250]} (Approve 250 for someone?)",
                    f"rejected {ids[500]} (Approve 500 for someone?)",
                ]
            )
            for amount, approved in ((250, True), (500, False)):
                events = await events_until(pool, ids[amount])
                assert events[-1].type == "execution:completed"
                assert events[-1].envelope["data"]["outputs"]["decide"]["approved"] is approved

"""`POST /api/executions/{id}/cancel` on a real gateway, worker, Temporal dev server and
Postgres: owner only, idempotent, the end seen over Socket.IO as `execution:failed`
`cancelled`; and the Python client's `cancel`."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import httpx
import pytest

from flowmaestro.client import Client, ClientError
from flowmaestro.events import ExecutionFailed
from flowmaestro.gateway import GatewayConfig
from tests.gateway.harness import SECRET, Recorder, Running, of_type, serve, token
from tests.workflows.helpers import EXAMPLES, worker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


@contextlib.asynccontextmanager
async def approval(
    pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> AsyncIterator[tuple[Running, httpx.AsyncClient, str]]:
    """A gateway and worker, and u1's approval execution started over HTTP."""
    temporal = temporal_env.client
    async with worker(temporal, pool) as queue:
        config = GatewayConfig(jwt_secret=SECRET, task_queue=queue, flows_dir=EXAMPLES)
        async with serve(pool, temporal, config) as running:
            auth = {"Authorization": f"Bearer {token('u1')}"}
            async with httpx.AsyncClient(base_url=running.url, headers=auth) as http:
                started = await http.post(
                    "/api/executions", json={"flow": "approval", "inputs": {"amount": 500}}
                )
                yield running, http, started.json()["executionId"]


async def test_the_owner_cancels_once_and_every_socket_sees_the_end(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    async with approval(pool, temporal_env) as (running, http, execution_id):
        intruder_auth = {"Authorization": f"Bearer {token('u2')}"}
        owner = await Recorder().connect(running.url, "u1")
        ack = await owner.call("subscribe", {"channel": f"execution:{execution_id}", "after": 0})
        assert ack["ok"], ack
        await owner.wait_until(of_type("user_input:required"))

        url = f"/api/executions/{execution_id}/cancel"
        intruder = await http.post(url, headers=intruder_auth)
        assert (intruder.status_code, intruder.json()["error"]["code"]) == (
            403,
            "forbidden",
        )
        missing = await http.post("/api/executions/ex_nope/cancel")
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
        unauthenticated = await http.post(url, headers={"Authorization": ""})
        assert unauthenticated.status_code == 401

        cancelled = await http.post(url)
        assert cancelled.status_code == 202, cancelled.text
        assert cancelled.json() == {
            "executionId": execution_id,
            "status": "waiting",
            "cancelRequested": True,
        }
        # Asked again before the end: still accepted, nothing more happens.
        assert (await http.post(url)).status_code == 202

        await owner.wait_until(of_type("execution:failed"))
        failed = [e for e in owner.events if e["type"] == "execution:failed"]
        assert len(failed) == 1
        assert failed[0]["data"]["error"]["type"] == "cancelled"
        assert not any(e["type"] == "execution:completed" for e in owner.events)

        after = await http.post(url)
        assert after.json() == {
            "executionId": execution_id,
            "status": "cancelled",
            "cancelRequested": False,
        }
        snapshot = (await http.get(f"/api/executions/{execution_id}")).json()
        assert snapshot["status"] == "cancelled"
        assert snapshot["pendingInputs"] == []
        await owner.close()


async def test_the_python_client_cancels(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    async with approval(pool, temporal_env) as (running, _, execution_id):
        async with Client(running.url, token("u2")) as intruder:
            with pytest.raises(ClientError) as refused:
                await intruder.cancel(execution_id)
            assert refused.value.code == "forbidden"
        async with Client(running.url, token("u1")) as client:
            answer = await client.cancel(execution_id)
            assert answer["cancelRequested"] is True
            events = [e async for e in client.events(execution_id, after=0)]
            assert isinstance(events[-1], ExecutionFailed)
            assert events[-1].data.error.type == "cancelled"
            again = await client.cancel(execution_id)
            assert (again["status"], again["cancelRequested"]) == ("cancelled", False)

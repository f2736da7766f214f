"""Per-user quotas: a burst of writes is answered 429 `rate_limited` with Retry-After, and a
user's unfinished executions are capped (429 `quota_exceeded`); other users are untouched."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.flowmaestro.test_gateway_workers import supervisor
from tests.gateway.harness import token
from tests.security.stack import TRIVIAL_FLOW, first_event, gateway_stack, still_serving
from tests.support.ports import free_port

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer

WAITING_FLOW = {
    "name": "waits",
    "nodes": [
        {
            "id": "ask",
            "type": "user_input",
            "config": {"prompt": "go on?", "input_type": "boolean", "timeout_seconds": 3600},
        }
    ],
}


@pytest.mark.slow
async def test_a_burst_of_starts_is_rate_limited_with_retry_after(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with (
        gateway_stack(
            database_dsn,
            temporal_env.client,
            # One process: per-user write quotas are kept per gateway process.
            workers=1,
            user_writes_per_second=0.01,
            user_write_burst=5,
        ) as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=30) as http,
    ):
        auth = stack.auth("mallory")
        answers, _ = await asyncio.gather(
            asyncio.gather(
                *(
                    http.post("/api/executions", json={"flow": TRIVIAL_FLOW}, headers=auth)
                    for _ in range(30)
                )
            ),
            still_serving(stack),
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201] * 5 + [429] * 25
        refused = next(a for a in answers if a.status_code == 429)
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        # Every write spends the same budget: creating a knowledge base is refused too.
        kb = await http.post("/api/knowledge-bases", json={"name": "x"}, headers=auth)
        assert kb.status_code == 429
    started = await pool.fetchval("SELECT count(*) FROM executions WHERE user_id = 'mallory'")
    assert started == 5


@pytest.mark.slow
async def test_a_users_unfinished_executions_are_capped(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with (
        gateway_stack(database_dsn, temporal_env.client, max_running_executions=3) as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=30) as http,
    ):
        auth = stack.auth("mallory")
        waiting = []
        for _ in range(3):
            started = await http.post("/api/executions", json={"flow": WAITING_FLOW}, headers=auth)
            assert started.status_code == 201, started.text
            waiting.append(started.json()["executionId"])
        refused, _ = await asyncio.gather(
            http.post("/api/executions", json={"flow": TRIVIAL_FLOW}, headers=auth),
            still_serving(stack),
        )
        assert refused.status_code == 429, refused.text
        error = refused.json()["error"]
        assert error["code"] == "quota_exceeded"
        assert error["details"]["limit"] == "max_running_executions"
        # One ends: there is room again.
        prompt = await first_event(stack, "mallory", waiting[0], {"user_input:required"})
        answered = await http.post(
            f"/api/executions/{waiting[0]}/inputs/{prompt['data']['inputId']}",
            json={"value": True},
            headers=auth,
        )
        assert answered.status_code == 200, answered.text
        await first_event(stack, "mallory", waiting[0], {"execution:completed"})
        again = await http.post("/api/executions", json={"flow": TRIVIAL_FLOW}, headers=auth)
        assert again.status_code == 201, again.text
        for execution_id in waiting[1:]:
            await temporal_env.client.get_workflow_handle(execution_id).terminate()


@pytest.mark.slow
async def test_an_execution_terminated_outside_leaves_the_running_cap(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with (
        gateway_stack(database_dsn, temporal_env.client, max_running_executions=2) as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=30) as http,
    ):
        auth = stack.auth("mallory")
        waiting = []
        for _ in range(2):
            started = await http.post("/api/executions", json={"flow": WAITING_FLOW}, headers=auth)
            assert started.status_code == 201, started.text
            waiting.append(started.json()["executionId"])
        full = await http.post("/api/executions", json={"flow": WAITING_FLOW}, headers=auth)
        assert full.status_code == 429, full.text
        # Terminated with Temporal's own tools: nothing of ours writes its end...
        await first_event(stack, "mallory", waiting[0], {"user_input:required"})
        await temporal_env.client.get_workflow_handle(waiting[0]).terminate("by an operator")
        # ...until the cap is reached again, and its slot is free (rechecked after a while).
        for _ in range(60):
            again = await http.post("/api/executions", json={"flow": WAITING_FLOW}, headers=auth)
            if again.status_code != 429:
                break
            # A user's recheck runs at most every RECHECK seconds: nothing to await here.
            await asyncio.sleep(0.5)
        assert again.status_code == 201, again.text
        waiting.append(again.json()["executionId"])
        ended = await first_event(stack, "mallory", waiting[0], {"execution:failed"})
        assert ended["data"]["error"]["type"] == "closed_outside"
        assert "terminated" in ended["data"]["error"]["message"]
        status = await pool.fetchval("SELECT status FROM executions WHERE id = $1", waiting[0])
        assert status == "failed"
        for execution_id in waiting[1:]:
            await temporal_env.client.get_workflow_handle(execution_id).terminate()


async def starts_on_four_processes(
    database_dsn: str,
    temporal_env: WorkflowEnvironment,
    flow: dict[str, Any],
    count: int,
    **limits: str,
) -> list[int]:
    """`count` concurrent starts of mallory's on a four-process gateway (`limits` as
    FLOWMAESTRO_LIMITS__<NAME>), each on a connection of its own, so that the kernel spreads
    them over the processes: their statuses."""
    port = free_port()
    settings = {f"FLOWMAESTRO_LIMITS__{k.upper()}": v for k, v in limits.items()}
    async with supervisor(database_dsn, temporal_env, port, 4, **settings):

        async def start() -> int:
            async with httpx.AsyncClient(timeout=60) as http:
                answer = await http.post(
                    f"http://127.0.0.1:{port}/api/executions",
                    json={"flow": flow},
                    headers={"Authorization": f"Bearer {token('mallory')}"},
                )
                return answer.status_code

        return list(await asyncio.gather(*(start() for _ in range(count))))


async def test_the_write_quota_holds_across_four_gateway_processes(
    database_dsn: str, pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    """Issue 26 measured 53 of 300 starts accepted against a burst of 30 with two processes:
    each counted its own. Now the budget is one, in Postgres."""
    statuses = await starts_on_four_processes(
        database_dsn,
        temporal_env,
        TRIVIAL_FLOW,
        200,
        user_writes_per_second="0.01",
        user_write_burst="30",
    )
    assert sorted(statuses) == [201] * 30 + [429] * 170
    started = await pool.fetchval("SELECT count(*) FROM executions WHERE user_id = 'mallory'")
    assert started == 30


async def test_the_running_cap_holds_across_four_gateway_processes(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    """Starts racing on four processes cannot all pass the same count: each process counted
    and started on its own, so a burst passed the cap by up to a start per process."""
    statuses = await starts_on_four_processes(
        database_dsn,
        temporal_env,
        WAITING_FLOW,
        40,
        max_running_executions="3",
        user_write_burst="100",
    )
    started = await pool.fetch("SELECT id FROM executions WHERE user_id = 'mallory'")
    for row in started:  # no worker runs them: they would wait in Temporal for good
        await temporal_env.client.get_workflow_handle(row["id"]).terminate()
    assert sorted(statuses) == [201] * 3 + [429] * 37
    assert len(started) == 3

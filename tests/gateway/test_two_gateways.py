"""Two `flowmaestro gateway` processes on one database: the same events on both, and input
given through either reaches the workflow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.gateway.harness import Recorder, token
from tests.gateway.process import GatewayProcess, gateway_env
from tests.workflows.helpers import worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment


pytestmark = pytest.mark.slow


def of_type(kind: str) -> Any:
    return lambda r: any(e["type"] == kind for e in r.events)


async def test_two_gateway_processes_share_one_database(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    client = temporal_env.client
    async with worker(client, pool) as queue:
        env = gateway_env(database_dsn, client, queue)
        # Each gateway also runs a sequencer; the advisory lock keeps one active.
        async with GatewayProcess(env) as a, GatewayProcess(env) as b:
            url_a, url_b = a.url, b.url
            headers = {"Authorization": f"Bearer {token('u1')}"}
            async with httpx.AsyncClient(headers=headers) as http:
                ids = []
                for _ in range(2):
                    started = await http.post(
                        f"{url_a}/api/executions",
                        json={"flow": "approval", "inputs": {"amount": 250}},
                    )
                    assert started.status_code == 201, started.text
                    ids.append(started.json()["executionId"])
                on_a = await Recorder().connect(url_a, "u1")
                on_b = await Recorder().connect(url_b, "u1")
                for client_ in (on_a, on_b):
                    for execution_id in ids:
                        ack = await client_.call(
                            "subscribe", {"channel": f"execution:{execution_id}", "after": 0}
                        )
                        assert ack["ok"], ack

                def prompts(r: Recorder) -> bool:
                    return [e["type"] for e in r.events].count("user_input:required") == 2

                await on_a.wait_until(prompts)
                await on_b.wait_until(prompts)
                inputs = {
                    e["executionId"]: e["data"]["inputId"]
                    for e in on_a.events
                    if e["type"] == "user_input:required"
                }
                # One answer through B's socket, the other through A's HTTP API.
                first, second = ids
                answer = {"executionId": first, "inputId": inputs[first], "value": True}
                assert await on_b.call("user_input:provide", answer) == {"ok": True}
                answered = await http.post(
                    f"{url_a}/api/executions/{second}/inputs/{inputs[second]}",
                    json={"value": False},
                )
                assert answered.status_code == 200, answered.text

                def finished(r: Recorder) -> bool:
                    return [e["type"] for e in r.events].count("execution:completed") == 2

                await on_a.wait_until(finished)
                await on_b.wait_until(finished)
                # The same events, each once (arrival order may differ around the subscribes).
                by_position_a = {e["position"]: e for e in on_a.events}
                by_position_b = {e["position"]: e for e in on_b.events}
                assert len(by_position_a) == len(on_a.events) == len(on_b.events)
                assert by_position_a == by_position_b
                outputs = {
                    e["executionId"]: e["data"]["outputs"]["decide"]["approved"]
                    for e in on_a.events
                    if e["type"] == "execution:completed"
                }
                assert outputs == {first: True, second: False}
                await on_a.close()
                await on_b.close()

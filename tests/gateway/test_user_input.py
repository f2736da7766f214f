"""A flow with a user-input node driven end to end through the gateway and Temporal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from flowmaestro.flows.start import start_execution
from flowmaestro.gateway import GatewayConfig
from tests.gateway.harness import SECRET, Recorder, of_type, serve, token
from tests.workflows.helpers import EXAMPLES, example, worker

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer


async def test_approval_flow_through_socket_and_http(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    client = temporal_env.client
    async with worker(client, pool) as queue:
        config = GatewayConfig(jwt_secret=SECRET, task_queue=queue, flows_dir=EXAMPLES)
        async with serve(pool, client, config) as running:
            auth = {"Authorization": f"Bearer {token('u1')}"}
            async with httpx.AsyncClient(base_url=running.url, headers=auth) as http:
                started = await http.post(
                    "/api/executions", json={"flow": "approval", "inputs": {"amount": 500}}
                )
                assert started.status_code == 201, started.text
                execution_id = started.json()["executionId"]
                owner = await Recorder().connect(running.url, "u1")
                ack = await owner.call(
                    "subscribe", {"channel": f"execution:{execution_id}", "after": 0}
                )
                assert ack["ok"], ack
                await owner.wait_until(of_type("user_input:required"))
                required = next(e for e in owner.events if e["type"] == "user_input:required")
                input_id = required["data"]["inputId"]
                assert required["data"]["schema"] == {"type": "boolean"}

                snapshot = (await http.get(f"/api/executions/{execution_id}")).json()
                assert [p["inputId"] for p in snapshot["pendingInputs"]] == [input_id]
                assert snapshot["position"] >= required["position"]
                assert snapshot["flowName"] == "expense-approval"

                def provide(value: Any, input_ref: str = input_id) -> dict[str, Any]:
                    return {"executionId": execution_id, "inputId": input_ref, "value": value}

                intruder = await Recorder().connect(running.url, "u2")
                refused = await intruder.call("user_input:provide", provide(True))
                assert refused["error"]["code"] == "forbidden"
                missing = await owner.call("user_input:provide", provide(True, "in_nope"))
                assert missing["error"]["code"] == "not_found"
                invalid = await owner.call("user_input:provide", provide("yes please"))
                assert invalid["error"]["code"] == "invalid_input", invalid
                assert invalid["error"]["details"]["errors"][0]["path"] == ""
                over_http = await http.post(
                    f"/api/executions/{execution_id}/inputs/{input_id}", json={"value": 3}
                )
                assert over_http.status_code == 422
                assert over_http.json()["error"]["code"] == "invalid_input"

                assert await owner.call("user_input:provide", provide(True)) == {"ok": True}
                await owner.wait_until(of_type("execution:completed"))
                completed = next(e for e in owner.events if e["type"] == "execution:completed")
                assert completed["data"]["outputs"]["decide"]["approved"] is True
                types = [e["type"] for e in owner.events]
                assert types.index("user_input:received") > types.index("user_input:required")

                again = await owner.call("user_input:provide", provide(False))
                assert again["error"]["code"] == "already_answered"
                again_http = await http.post(
                    f"/api/executions/{execution_id}/inputs/{input_id}", json={"value": False}
                )
                assert again_http.status_code == 409

                listed = (await http.get("/api/executions")).json()["executions"]
                assert [e["executionId"] for e in listed] == [execution_id]
                final = (await http.get(f"/api/executions/{execution_id}")).json()
                assert final["pendingInputs"] == [] and final["outputs"]["decide"]["approved"]
                await owner.close()
                await intruder.close()


async def test_an_answer_no_worker_takes_is_answered_unavailable(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    client = temporal_env.client
    # No worker polls this queue: the Update is never taken.
    execution_id = await start_execution(
        client, example("approval.yaml"), "u1", {"amount": 500}, pool=pool, task_queue="nobody"
    )
    config = GatewayConfig(jwt_secret=SECRET, input_timeout=0.5)
    async with serve(pool, client, config) as running:
        owner = await Recorder().connect(running.url, "u1")
        answer = {"executionId": execution_id, "inputId": "in_x", "value": True}
        refused = await owner.call("user_input:provide", answer)
        assert refused["error"]["code"] == "unavailable"
        assert refused["error"]["details"] == {"dependency": "worker"}
        assert "no worker answered" in refused["error"]["message"]
        await owner.close()
    await client.get_workflow_handle(execution_id).terminate()

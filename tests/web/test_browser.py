"""The demo UI in headless Chromium against a real gateway, worker, Temporal and Postgres.

pytest runs the stack and web/e2e/approval.mjs (playwright-core driving Debian's Chromium);
the script asks for what only the test can do (stop/start the gateway, answer through
Temporal) with `@@ {json}` lines and reads the answer on stdin. Screenshots go to
test-artifacts/browser/.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from flowmaestro.flows.flow import load_flow
from flowmaestro.flows.messages import (
    PENDING_INPUTS,
    PROVIDE_INPUT,
    PendingInput,
    ProvideInput,
    ProvideInputResult,
)
from flowmaestro.gateway.auth import mint_token
from tests.http_server import scripted_server
from tests.web.driver import ARTIFACTS, ROOT, drive, missing
from tests.web.stack import Stack

if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.testing import WorkflowEnvironment

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(missing() is not None, reason=missing() or ""),
]


async def _answer(client: Client, execution_id: str, value: Any) -> None:
    handle = client.get_workflow_handle(execution_id)
    pending = await handle.query(PENDING_INPUTS, result_type=list[PendingInput])
    await handle.execute_update(
        PROVIDE_INPUT,
        ProvideInput(input_id=pending[0].input_id, value=value),
        result_type=ProvideInputResult,
    )


async def _serve(stack: Stack, client: Client, request: dict[str, Any]) -> None:
    match request["request"]:
        case "stop-gateway":
            await stack.stop_gateway()
        case "start-gateway":
            await stack.start_gateway()
        case "restart-gateway":
            await stack.stop_gateway()
            await stack.start_gateway()
        case "answer":
            await _answer(client, request["executionId"], request["value"])
        case other:
            raise AssertionError(f"unknown request from the browser script: {other}")


async def _run(
    script: str,
    database_dsn: str,
    temporal_env: WorkflowEnvironment,
    env: dict[str, str] | None = None,
) -> None:
    secret = uuid.uuid4().hex
    address = temporal_env.client.service_client.config.target_host
    async with Stack(
        database_dsn, address, secret, ARTIFACTS / script.removesuffix(".mjs")
    ) as stack:
        token = mint_token(secret, "browser-user", 3600)
        output = await drive(
            script,
            stack.base_url,
            token,
            lambda request: _serve(stack, temporal_env.client, request),
            env=env,
        )
    assert output[-1] == "-- done"


async def test_approval_flow_in_the_browser(
    database_dsn: str, temporal_env: WorkflowEnvironment
) -> None:
    """Sign in, start, a refused then an accepted answer, two tabs, a reload, an outage."""
    await _run("approval.mjs", database_dsn, temporal_env)
    for name in ("01-sign-in", "03-execution-waiting", "04-invalid-answer", "07-recovered"):
        assert (ARTIFACTS / f"{name}.png").is_file()


async def test_agent_flow_in_the_browser(
    database_dsn: str, temporal_env: WorkflowEnvironment
) -> None:
    """Agent text streams, survives a gateway restart mid-stream; knowledge-base upload."""
    await _run("agent.mjs", database_dsn, temporal_env)
    for name in ("11-agent-streaming", "12-agent-done", "13-knowledge-base"):
        assert (ARTIFACTS / f"{name}.png").is_file()


def _expected_graphs() -> dict[str, dict[str, list[str]]]:
    """Each example's node ids and `from->to` edges, read from its flow file."""
    graphs = {}
    for name in ("approval", "parallel", "retry", "agent_approval"):
        flow = load_flow(ROOT / "examples" / f"{name}.yaml")
        graphs[name] = {
            "nodes": [n.id for n in flow.nodes],
            "edges": [f"{d}->{n.id}" for n in flow.nodes for d in n.after],
        }
    return graphs


async def test_graph_timeline_and_accessibility_in_the_browser(
    database_dsn: str, temporal_env: WorkflowEnvironment
) -> None:
    """Every example's graph, live statuses, the retry badge and timeline, axe on every page,
    screenshots at 1400 and 390 px."""
    async with scripted_server([(503, b"busy"), (200, {"ok": True})]) as (url, seen):
        env = {"EXPECTED": json.dumps(_expected_graphs()), "RETRY_URL": url}
        await _run("graph.mjs", database_dsn, temporal_env, env)
    assert len(seen) == 2
    for name in ("20-sign-in", "21-execution-waiting", "24-execution-retry", "26-executions"):
        for width in ("wide", "phone"):
            assert (ARTIFACTS / f"{name}-{width}.png").is_file()


async def test_cancel_in_the_browser(database_dsn: str, temporal_env: WorkflowEnvironment) -> None:
    """The Cancel button ends a waiting execution: cancelled in every tab, prompt closed."""
    await _run("cancel.mjs", database_dsn, temporal_env)
    assert (ARTIFACTS / "30-execution-cancelled.png").is_file()

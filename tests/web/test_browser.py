"""The demo UI in headless Chromium against a real gateway, worker, Temporal and Postgres.

pytest runs the stack and web/e2e/approval.mjs (playwright-core driving Debian's Chromium);
the script asks for what only the test can do (stop/start the gateway, answer through
Temporal) with `@@ {json}` lines and reads the answer on stdin. Screenshots go to
test-artifacts/browser/.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from gateway.auth import mint_token
from tests.http_server import scripted_server
from tests.web.stack import Stack
from workflows.flow import load_flow
from workflows.messages import (
    PENDING_INPUTS,
    PROVIDE_INPUT,
    PendingInput,
    ProvideInput,
    ProvideInputResult,
)

if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.testing import WorkflowEnvironment

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("FLOWMAESTRO_CHROMIUM", "/usr/bin/chromium"))


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return (
            f"browser tests skipped: no Chromium at {CHROMIUM} "
            "(apt-get install chromium, or set FLOWMAESTRO_CHROMIUM)"
        )
    if shutil.which("node") is None:
        return "browser tests skipped: node is not installed"
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        return "browser tests skipped: run `npm ci` in web/ first"
    if not (WEB / "dist" / "index.html").is_file():
        return "browser tests skipped: build the UI first (`npm run build` in web/)"
    return None


pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(_missing() is not None, reason=_missing() or ""),
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


async def _drive(
    script: str, stack: Stack, client: Client, token: str, env: dict[str, str]
) -> list[str]:
    """Run one browser script to its end, serving its requests; returns its output."""
    node = shutil.which("node")
    assert node is not None
    proc = await asyncio.create_subprocess_exec(
        node,
        f"e2e/{script}",
        cwd=WEB,
        env={
            **os.environ,
            **env,
            "BASE_URL": stack.base_url,
            "TOKEN": token,
            "ARTIFACTS": str(ARTIFACTS),
        },
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    output: list[str] = []
    try:
        async with asyncio.timeout(240):
            async for raw in proc.stdout:
                line = raw.decode().rstrip("\n")
                output.append(line)
                if line.startswith("@@ "):
                    try:
                        await _serve(stack, client, json.loads(line[3:]))
                        reply: dict[str, Any] = {"ok": True}
                    except Exception as exc:
                        reply = {"ok": False, "error": repr(exc)}
                    proc.stdin.write((json.dumps(reply) + "\n").encode())
                    await proc.stdin.drain()
            await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    (ARTIFACTS / f"{script}.log").write_text("\n".join(output) + "\n")
    assert proc.returncode == 0, "\n".join(output[-40:])
    return output


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
        output = await _drive(script, stack, temporal_env.client, token, env or {})
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

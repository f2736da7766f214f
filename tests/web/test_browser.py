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
from tests.web.stack import Stack
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


async def _drive(script: str, stack: Stack, client: Client, token: str) -> list[str]:
    """Run one browser script to its end, serving its requests; returns its output."""
    node = shutil.which("node")
    assert node is not None
    proc = await asyncio.create_subprocess_exec(
        node,
        f"e2e/{script}",
        cwd=WEB,
        env={**os.environ, "BASE_URL": stack.base_url, "TOKEN": token, "ARTIFACTS": str(ARTIFACTS)},
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


async def _run(script: str, database_dsn: str, temporal_env: WorkflowEnvironment) -> None:
    secret = uuid.uuid4().hex
    address = temporal_env.client.service_client.config.target_host
    async with Stack(
        database_dsn, address, secret, ARTIFACTS / script.removesuffix(".mjs")
    ) as stack:
        token = mint_token(secret, "browser-user", 3600)
        output = await _drive(script, stack, temporal_env.client, token)
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

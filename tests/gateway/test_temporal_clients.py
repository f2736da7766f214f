"""Any Temporal client starts a flow: the `temporal` CLI, a raw temporalio client and a Node
script with @temporalio/client, each running the commands and snippet of
docs/temporal-clients.md as written. In each, the owner watches over Socket.IO, sees every
event, answers through the gateway and sees the execution complete; another user is
refused. An answer sent straight to Temporal closes the prompt in two Socket.IO clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import jsonschema
import pytest
from temporalio.client import Client

from flowmaestro.flows.contract import temporal_contract
from flowmaestro.gateway import GatewayConfig
from flowmaestro.temporal_connection import temporal_cli_path
from tests.gateway.harness import SECRET, Recorder, serve, token
from tests.support.processes import run
from tests.workflows.helpers import worker

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from flowmaestro.events.outbox import Sequencer
    from tests.gateway.harness import Running

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "temporal-clients.md"
NODE_CLIENT = Path(__file__).resolve().parent / "node_client"
OWNER, INTRUDER = "dev", "mallory"
TERMINAL = ("execution:completed", "execution:failed")


def doc_block(name: str) -> str:
    """The fenced block after `<!-- test: name -->` in the doc."""
    match = re.search(rf"<!-- test: {name} -->\n```\w+\n(.*?)```", DOC.read_text(), re.S)
    assert match, f"no block {name!r} in {DOC}"
    return match.group(1)


def doc_input() -> dict[str, Any]:
    """The workflow argument of the doc's `temporal workflow start`."""
    match = re.search(r"--input '(.*)'", doc_block("cli-start"))
    assert match
    parsed: dict[str, Any] = json.loads(match.group(1))
    return parsed


def address(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


def shell_env(env: WorkflowEnvironment, **extra: str) -> dict[str, str]:
    """The doc's assumptions: `temporal` on PATH, TEMPORAL_ADDRESS set."""
    path = f"{Path(temporal_cli_path()).parent}{os.pathsep}{os.environ['PATH']}"
    return {**os.environ, "PATH": path, "TEMPORAL_ADDRESS": address(env), **extra}


async def run_ok(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    done = await run(*argv, env=env, cwd=cwd, timeout=120)
    assert done.returncode == 0, f"{argv[0]} exited {done.returncode}: {done.stderr}"
    return done.stdout


async def run_doc_block(name: str, env: dict[str, str]) -> str:
    return await run_ok(["bash", "-euo", "pipefail", "-c", doc_block(name)], env)


@contextlib.asynccontextmanager
async def stack(pool: asyncpg.Pool, temporal_env: WorkflowEnvironment) -> AsyncIterator[Running]:
    """A worker on the doc's task queue and a gateway."""
    client = temporal_env.client
    async with (
        worker(client, pool, task_queue="flowmaestro"),
        serve(pool, client, GatewayConfig(jwt_secret=SECRET)) as running,
    ):
        yield running


async def watcher(running: Running) -> Recorder:
    """One of the owner's tabs: subscribed to the owner's channel before anything starts."""
    tab = await Recorder().connect(running.url, OWNER)
    ack = await tab.call("subscribe", {"channel": f"user:{OWNER}"})
    assert ack["ok"], ack
    return tab


def of(execution_id: str, kind: str) -> Callable[[Recorder], bool]:
    return lambda r: any(e["type"] == kind and e["executionId"] == execution_id for e in r.events)


def own(tab: Recorder, execution_id: str) -> list[dict[str, Any]]:
    return [e for e in tab.events if e["executionId"] == execution_id]


async def drive(
    running: Running, pool: asyncpg.Pool, execution_id: str, start: Callable[[], Awaitable[Any]]
) -> None:
    """Start through `start`; the owner sees every event, answers through the gateway and
    sees the end; the intruder is refused everything."""
    owner = await watcher(running)
    started = asyncio.ensure_future(start())
    try:
        await owner.wait_until(of(execution_id, "user_input:required"))
        [required] = [e for e in own(owner, execution_id) if e["type"] == "user_input:required"]
        input_id = required["data"]["inputId"]
        assert required["data"]["prompt"] == "Ship 1.2?"

        headers = {"Authorization": f"Bearer {token(OWNER)}"}
        async with httpx.AsyncClient(base_url=running.url, headers=headers) as http:
            listed = (await http.get("/api/executions")).json()["executions"]
            assert [(e["executionId"], e["flowName"]) for e in listed] == [(execution_id, "ship")]
            snapshot = (await http.get(f"/api/executions/{execution_id}")).json()
            assert [p["inputId"] for p in snapshot["pendingInputs"]] == [input_id]
            assert snapshot["status"] == "waiting"
            assert snapshot["position"] >= required["position"]
            intruding = {"Authorization": f"Bearer {token(INTRUDER)}"}
            refused = await http.get(f"/api/executions/{execution_id}", headers=intruding)
            assert refused.status_code == 403

        intruder = await Recorder().connect(running.url, INTRUDER)
        sub = await intruder.call("subscribe", {"channel": f"execution:{execution_id}"})
        assert sub["error"]["code"] == "forbidden"
        answer = {"executionId": execution_id, "inputId": input_id, "value": True}
        assert (await intruder.call("user_input:provide", answer))["error"]["code"] == "forbidden"
        await intruder.close()

        assert await owner.call("user_input:provide", answer) == {"ok": True}
        await owner.wait_until(of(execution_id, "execution:completed"))
        await asyncio.wait_for(started, 60)
    finally:
        if not started.done():
            started.cancel()
        await owner.close()

    seen = own(owner, execution_id)
    types = [e["type"] for e in seen]
    assert types[0] == "execution:started" and types[-1] == "execution:completed"
    assert types.index("user_input:required") < types.index("user_input:received")
    assert seen[-1]["data"]["outputs"] == {"done": {"approved": True}}
    # Every event the execution wrote, once each, in position order.
    written = await pool.fetch(
        "SELECT position FROM event_outbox WHERE envelope->>'executionId' = $1 ORDER BY 1",
        execution_id,
    )
    assert [e["position"] for e in seen] == [r[0] for r in written]


def new_id(kind: str) -> str:
    return f"ship-{kind}-{uuid.uuid4().hex[:8]}"


async def test_started_by_the_temporal_cli(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    execution_id = new_id("cli")
    env = shell_env(temporal_env, EXECUTION_ID=execution_id)
    async with stack(pool, temporal_env) as running:
        await drive(running, pool, execution_id, lambda: run_doc_block("cli-start", env))


async def test_started_by_a_raw_temporalio_client(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    execution_id = new_id("py")
    # The default converter, no FlowMaestro code: as any Python user would.
    client = await Client.connect(address(temporal_env))

    async def start() -> Any:
        handle = await client.start_workflow(
            "ExecutionWorkflow", doc_input(), id=execution_id, task_queue="flowmaestro"
        )
        return await handle.result()

    async with stack(pool, temporal_env) as running:
        await drive(running, pool, execution_id, start)


async def node_snippet(tmp_path: Path) -> Path:
    """The doc's TypeScript snippet, type-checked and compiled against @temporalio/client."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("node/npm is not installed: cannot run the @temporalio/client snippet")
    if not (NODE_CLIENT / "node_modules" / "@temporalio" / "client").is_dir():
        await run_ok(
            [npm, "ci", "--no-audit", "--no-fund", "--silent"], dict(os.environ), NODE_CLIENT
        )
    for name in ("package.json", "tsconfig.json"):
        shutil.copy(NODE_CLIENT / name, tmp_path / name)
    (tmp_path / "node_modules").symlink_to(NODE_CLIENT / "node_modules")
    (tmp_path / "snippet.ts").write_text(doc_block("typescript"))
    tsc = NODE_CLIENT / "node_modules" / ".bin" / "tsc"
    await run_ok([str(tsc), "-p", str(tmp_path)], dict(os.environ), tmp_path)
    return tmp_path / "build" / "snippet.js"


@pytest.mark.slow
async def test_started_by_a_node_script_with_temporalio_client(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    script = await node_snippet(tmp_path)
    execution_id = new_id("ts")
    env = shell_env(temporal_env, EXECUTION_ID=execution_id)
    printed: list[str] = []

    async def start() -> None:
        printed.append(await run_ok(["node", str(script)], env, tmp_path))

    async with stack(pool, temporal_env) as running:
        await drive(running, pool, execution_id, start)
    lines = printed[0].splitlines()
    assert lines[0] == f"started {execution_id}"
    assert json.loads(lines[1]) == {"done": {"approved": True}}


async def test_an_answer_through_the_temporal_cli_closes_the_prompt_in_every_tab(
    pool: asyncpg.Pool, sequencer: Sequencer, temporal_env: WorkflowEnvironment
) -> None:
    execution_id = new_id("answer")
    env = shell_env(temporal_env, EXECUTION_ID=execution_id)
    async with stack(pool, temporal_env) as running:
        tabs = [await watcher(running), await watcher(running)]
        await run_doc_block("cli-start", env)
        for tab in tabs:
            await tab.wait_until(of(execution_id, "user_input:required"))
        [required] = [e for e in own(tabs[0], execution_id) if e["type"] == "user_input:required"]
        input_id = required["data"]["inputId"]

        printed = await run_doc_block("cli-answer", {**env, "INPUT_ID": input_id})
        # The query printed the prompt in the contract's shape.
        query_result = re.search(r"QueryResult\s+(\[.*\])", printed)
        assert query_result, printed
        pending = json.loads(query_result.group(1))
        contract = temporal_contract("flowmaestro")
        result_schema = {
            **contract["queries"]["pending_inputs"]["result"],
            "$defs": contract["$defs"],
        }
        jsonschema.validate(pending, result_schema)
        assert [(p["input_id"], p["prompt"]) for p in pending] == [(input_id, "Ship 1.2?")]

        for tab in tabs:
            await tab.wait_until(of(execution_id, "execution:completed"))
            types = [e["type"] for e in own(tab, execution_id)]
            assert types.index("user_input:required") < types.index("user_input:received")
            received = next(e for e in own(tab, execution_id) if e["type"] == "user_input:received")
            assert received["data"]["inputId"] == input_id
            await tab.close()
        headers = {"Authorization": f"Bearer {token(OWNER)}"}
        async with httpx.AsyncClient(base_url=running.url, headers=headers) as http:
            snapshot = (await http.get(f"/api/executions/{execution_id}")).json()
        assert snapshot["pendingInputs"] == [] and snapshot["status"] == "completed"

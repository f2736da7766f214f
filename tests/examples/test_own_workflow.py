"""examples/own_workflow run as its README says, on a real stack: a Temporal dev server,
Postgres, a gateway process, and the example's own worker and starter processes.

Three orders of alice: every event reaches her over Socket.IO and SSE in order, exactly
once, across a gateway crash and restart; their prompts are answered over Socket.IO, over
HTTP and with `temporal workflow update`; bob sees nothing and can answer nothing. A run
started with the `temporal` CLI and the owner's search attribute is tracked; one without it
emits nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from flowmaestro.temporal_connection import temporal_cli_path
from tests.flowmaestro.temporal.test_plugin import prompts
from tests.gateway.harness import SECRET, Recorder, frames, token
from tests.gateway.process import GatewayProcess
from tests.support.processes import Child, run

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "own_workflow"
ORDER_INPUT = '{"order_id": "%s", "items": ["pen"], "total": 2}'


def example(env: dict[str, str], *args: str) -> Child:
    """`python <args>` in the example's directory, as its README runs it."""
    return Child(sys.executable, *args, cwd=EXAMPLE, env={**os.environ, **env}, name=args[0])


async def line_starting(child: Child, prefix: str) -> str:
    def found() -> str | None:
        return next((line for line in child.lines if line.startswith(prefix)), None)

    await child.wait_until(lambda: found() is not None, f"a {prefix!r} line")
    line = found()
    assert line is not None
    return line[len(prefix) :].strip()


async def temporal(address: str, *args: str) -> str:
    code, out, err = await run(temporal_cli_path(), *args, "--address", address)
    assert code == 0, out + err
    return out


class Socket:
    """alice's Socket.IO view of some executions, resumed after each reconnect from the last
    position it saw of each."""

    def __init__(self, url: str, user: str) -> None:
        self.url = url
        self.user = user
        self.recorders: list[Recorder] = []

    @property
    def events(self) -> list[dict[str, Any]]:
        return [e for r in self.recorders for e in r.events]

    def of(self, execution_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["executionId"] == execution_id]

    async def connect(self) -> None:
        """Connect (joining the user's channel), resuming it after the last event seen."""
        last = max((e["position"] for e in self.events), default=None)
        auth: dict[str, Any] = {"token": token(self.user)}
        if last is not None:
            auth["after"] = last
        self.recorders.append(await Recorder().connect(self.url, auth=auth))

    async def subscribe(self, executions: list[str]) -> None:
        """Each execution's channel too, from after the last of its events seen (the socket
        still gets each event once)."""
        for ex in executions:
            after = max((e["position"] for e in self.of(ex)), default=0)
            ack = await self.recorders[-1].call(
                "subscribe", {"channel": f"execution:{ex}", "after": after}
            )
            assert ack["ok"], ack

    async def until(self, done: Any, timeout: float = 90) -> None:
        await self.recorders[-1].wait_until(lambda _: done(self), timeout)

    async def close(self) -> None:
        for r in self.recorders:
            with contextlib.suppress(Exception):
                await r.close()


async def sse(
    url: str, executions: list[str], got: list[dict[str, Any]], up: asyncio.Event
) -> None:
    """alice's one SSE stream of the executions until each has ended; after the gateway
    drops it, it waits for `up` and resumes from its `Last-Event-ID`."""
    ended: set[str] = set()
    params: dict[str, Any] = {"channel": [f"execution:{ex}" for ex in executions], "after": 0}
    headers = {"Authorization": f"Bearer {token('alice')}"}
    async with httpx.AsyncClient(headers=headers, timeout=None) as http:
        while len(ended) < len(executions):
            await up.wait()
            last = [f["id"] for f in got]
            resume = {"Last-Event-ID": last[-1]} if last else {}
            try:
                async with http.stream(
                    "GET", f"{url}/api/stream", params=params, headers=resume
                ) as response:
                    assert response.status_code == 200, await response.aread()
                    async for frame in frames(response):
                        if frame["event"] == "ready":
                            continue
                        got.append(frame)
                        if frame["event"] in {"execution:completed", "execution:failed"}:
                            ended.add(frame["data"]["executionId"])
                            if len(ended) == len(executions):
                                return
            except (httpx.TransportError, httpx.RemoteProtocolError):
                up.clear()


def required(events: list[dict[str, Any]]) -> str | None:
    found = [e["data"]["inputId"] for e in events if e["type"] == "user_input:required"]
    return found[0] if found else None


def ended(events: list[dict[str, Any]]) -> bool:
    return any(e["type"] == "execution:completed" for e in events)


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_the_example_runs_as_its_readme_says(
    temporal_env: WorkflowEnvironment, database_dsn: str, pool: asyncpg.Pool
) -> None:
    address = temporal_env.client.service_client.config.target_host
    env = {
        "FLOWMAESTRO_TEMPORAL_ADDRESS": address,
        "FLOWMAESTRO_DATABASE_URL": database_dsn,
        "FLOWMAESTRO_JWT_SECRET": SECRET,
    }
    gateway = GatewayProcess({**env, "FLOWMAESTRO_GATEWAY_WORKERS": "1"})
    await gateway.start()
    alice = Socket(gateway.url, "alice")
    bob = Socket(gateway.url, "bob")
    await alice.connect()
    await bob.connect()
    streamed: list[dict[str, Any]] = []
    up = asyncio.Event()
    up.set()
    try:
        async with (
            example(env, "run_worker.py") as worker,
            example(env, "run_workflow.py", "alice") as first,
            example(env, "run_workflow.py", "alice") as second,
            example(env, "run_workflow.py", "alice") as third,
        ):
            await line_starting(worker, "worker running")
            starters = [first, second, third]
            ids = [await line_starting(p, "execution ") for p in starters]
            # Registered by the workflow's first step: its start reaches alice's user channel.
            await alice.until(lambda s: all(s.of(ex) for ex in ids))
            await alice.subscribe(ids)
            reading = asyncio.create_task(sse(gateway.url, ids, streamed, up))

            # The gateway crashes mid-run and comes back; both views resume.
            await alice.until(lambda s: any(e["type"] == "node:progress" for e in s.events))
            await gateway.kill()
            await gateway.start()
            up.set()
            await alice.connect()
            await alice.subscribe(ids)
            await bob.connect()

            await alice.until(lambda s: all(required(s.of(ex)) for ex in ids))
            inputs = {ex: required(alice.of(ex)) for ex in ids}
            # bob can neither watch nor answer alice's executions.
            intruder = bob.recorders[-1]
            watch = await intruder.call("subscribe", {"channel": f"execution:{ids[0]}"})
            assert watch["error"]["code"] == "forbidden"
            answer = {"executionId": ids[0], "inputId": inputs[ids[0]], "value": True}
            assert (await intruder.call("user_input:provide", answer))["error"][
                "code"
            ] == "forbidden"
            async with httpx.AsyncClient(base_url=gateway.url) as http:
                refused = await http.post(
                    f"/api/executions/{ids[1]}/inputs/{inputs[ids[1]]}",
                    json={"value": True},
                    headers={"Authorization": f"Bearer {token('bob')}"},
                )
                assert refused.status_code == 403, refused.text

                # alice answers each one a different way.
                ack = await alice.recorders[-1].call("user_input:provide", answer)
                assert ack == {"ok": True}, ack
                over_http = await http.post(
                    f"/api/executions/{ids[1]}/inputs/{inputs[ids[1]]}",
                    json={"value": True},
                    headers={"Authorization": f"Bearer {token('alice')}"},
                )
                assert over_http.status_code == 200, over_http.text
            update = json.dumps({"input_id": inputs[ids[2]], "value": True})
            await temporal(
                address,
                "workflow", "update", "execute",
                "--workflow-id", ids[2], "--name", "provide_input", "--input", update,
            )  # fmt: skip
            for starter in starters:
                assert "charged $89.50" in await line_starting(starter, "result ")
            await alice.until(lambda s: all(ended(s.of(ex)) for ex in ids))
            async with asyncio.timeout(60):
                await reading

            # Each event once, in order, over both: what the outbox holds for the execution.
            for ex in ids:
                stored = [
                    r["position"]
                    for r in await pool.fetch(
                        "SELECT position FROM event_outbox WHERE envelope->>'executionId' = $1 "
                        "ORDER BY position",
                        ex,
                    )
                ]
                assert [e["position"] for e in alice.of(ex)] == stored
                assert [int(f["id"]) for f in streamed if f["data"]["executionId"] == ex] == stored
            types = [e["type"] for e in alice.of(ids[0])]
            for expected in (
                "execution:started",
                "node:progress",
                "agent:streaming_start",
                "agent:token",
                "agent:tool_call",
                "agent:streaming_end",
                "user_input:required",
                "user_input:received",
                "node:failed",
                "app:payment.captured",
                "execution:completed",
            ):
                assert expected in types
            [retry] = [e["data"] for e in alice.of(ids[0]) if e["type"] == "node:failed"]
            assert retry["nodeType"] == "charge_payment" and retry["willRetry"] is True
            assert bob.events == []

            # Started with the `temporal` CLI: tracked with the attribute, silent without.
            tracked, untracked = (
                f"order-cli-{uuid.uuid4().hex[:6]}",
                f"order-cli-{uuid.uuid4().hex[:6]}",
            )
            for workflow_id, extra in (
                (tracked, ["--search-attribute", 'FlowMaestroUser="alice"']),
                (untracked, []),
            ):
                await temporal(
                    address,
                    "workflow", "start", "--type", "OrderWorkflow", "--task-queue", "orders",
                    "--workflow-id", workflow_id, "--input", ORDER_INPUT % workflow_id, *extra,
                )  # fmt: skip
            # alice's user channel carries her executions' events, the CLI's one included.
            own = alice.recorders[-1]
            await own.wait_until(
                lambda r: any(
                    e["executionId"] == tracked and e["type"] == "user_input:required"
                    for e in r.events
                ),
                60,
            )
            # Untracked, its prompt still works (the workflow got that far).
            assert await prompts(temporal_env.client.get_workflow_handle(untracked))
            assert (
                await pool.fetchval("SELECT count(*) FROM executions WHERE id = $1", untracked) == 0
            )
            assert (
                await pool.fetchval(
                    "SELECT count(*) FROM event_outbox WHERE envelope->>'executionId' = $1",
                    untracked,
                )
                == 0
            )
            assert (
                await pool.fetchval("SELECT user_id FROM executions WHERE id = $1", tracked)
                == "alice"
            )
            for workflow_id in (tracked, untracked):
                await temporal_env.client.get_workflow_handle(workflow_id).terminate("done")
    finally:
        await alice.close()
        await bob.close()
        await gateway.stop()

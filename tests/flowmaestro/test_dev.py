"""`flowmaestro dev` end to end, as a user runs it: a subprocess on free ports with a fresh
data dir; a Socket.IO client with the printed token watches the demo to its end, answering
its prompt; `watch --json` replays a finished execution and follows a live one; a second
`dev` is refused; Ctrl-C leaves no process behind."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import psutil
import pytest
import socketio
from temporalio.client import Client

from flowmaestro.cli import main
from flowmaestro.database import with_database
from flowmaestro.flows import search_attributes
from tests.flowmaestro.devstack import alive, running_dev
from tests.support.ports import free_port
from tests.support.processes import FLOWMAESTRO, child_env, run

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from temporalio.testing import WorkflowEnvironment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(
        "gateway" not in main.commands, reason="needs the `flowmaestro gateway` command"
    ),
]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CATEGORIES = {"execution", "node", "user_input", "agent", "kb"}


@pytest.fixture
async def empty_database(server_dsn: str) -> AsyncIterator[str]:
    """A database with nothing in it: `dev` applies the migrations itself."""
    name = f"fm_dev_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield with_database(server_dsn, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


class Watcher:
    """A Socket.IO client that records its user's events and answers the prompts of the
    executions it follows."""

    def __init__(self, answer: Any) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: dict[int, dict[str, Any]] = {}
        self.acks: list[Any] = []
        self.followed: set[str] = set()
        self.answered: set[str] = set()
        self._answer = answer
        self._changed = asyncio.Condition()
        self.client.on("*", self._on_event)

    async def _on_event(self, event: str, data: Any = None) -> None:
        if not isinstance(data, dict) or "position" not in data:
            return
        self.events[data["position"]] = data
        if event == "user_input:required":
            await self._answer_open(data["executionId"])
        async with self._changed:
            self._changed.notify_all()

    async def _answer_open(self, execution_id: str) -> None:
        """Answer, once each, the prompts seen so far of a followed execution."""
        if execution_id not in self.followed:
            return
        for event in self.of(execution_id):
            input_id = event["data"].get("inputId")
            if event["type"] != "user_input:required" or input_id in self.answered:
                continue
            self.answered.add(input_id)
            ack = await self.client.call(
                "user_input:provide",
                {"executionId": execution_id, "inputId": input_id, "value": self._answer},
                timeout=30,
            )
            self.acks.append(ack)

    def of(self, execution_id: str) -> list[dict[str, Any]]:
        return [e for _, e in sorted(self.events.items()) if e.get("executionId") == execution_id]

    async def until_ended(self, execution_id: str, timeout: float = 120) -> list[dict[str, Any]]:
        def ended() -> bool:
            return any(
                e["type"] in ("execution:completed", "execution:failed")
                for e in self.of(execution_id)
            )

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(ended)
        return self.of(execution_id)

    async def follow(self, execution_id: str) -> None:
        """Subscribe to the execution from its start, and answer its prompts from now on."""
        self.followed.add(execution_id)
        ack = await self.client.call(
            "subscribe", {"channel": f"execution:{execution_id}", "after": 0}, timeout=30
        )
        assert ack["ok"], ack
        # A prompt that arrived (on the user's channel) before it was followed.
        await self._answer_open(execution_id)


async def test_dev_runs_the_demo_end_to_end_and_ctrl_c_leaves_nothing(
    empty_database: str, tmp_path: Path
) -> None:
    port, temporal_port, ui_port = free_port(), free_port(), free_port()
    env = child_env(
        FLOWMAESTRO_DATABASE_URL=empty_database,
        FLOWMAESTRO_TASK_QUEUE=f"dev-{uuid.uuid4().hex[:8]}",
    )
    args = [
        "--data-dir",
        str(tmp_path / "state"),
        "--port",
        str(port),
        "--temporal-port",
        str(temporal_port),
        "--temporal-ui-port",
        str(ui_port),
    ]
    async with running_dev(args, env) as dev:
        await dev.wait_ready()
        ui, token, demo = dev.banner["UI"], dev.banner["token"], dev.banner["demo"]
        assert ui == f"http://127.0.0.1:{port}/"
        assert dev.banner["Temporal UI"] == f"http://127.0.0.1:{ui_port}"
        for part in ("temporal", "worker", "gateway"):
            assert any(line.startswith(f"{part} ") for line in dev.lines), dev.output

        watcher = Watcher(answer=True)
        await watcher.client.connect(
            ui, auth={"token": token}, transports=["websocket"], wait_timeout=10
        )
        try:
            await watcher.follow(demo)
            history = await watcher.until_ended(demo)
            assert watcher.acks == [{"ok": True}]
            types = [e["type"] for e in history]
            assert {t.split(":")[0] for t in types} == CATEGORIES, types
            assert types[-1] == "execution:completed", history[-1]
            assert history[-1]["data"]["outputs"]["decide"]["approved"] is True
            # dev registered FlowMaestro's search attributes, so the workflow upserted them.
            temporal = await Client.connect(dev.banner["Temporal"])
            # (upserted when the workflow ends, just after its last event is written)
            await asyncio.wait_for(temporal.get_workflow_handle(demo).result(), 30)
            described = await temporal.get_workflow_handle(demo).describe()
            attributes = described.typed_search_attributes
            assert (
                attributes.get(search_attributes.USER),
                attributes.get(search_attributes.STATUS),
            ) == (
                "dev",
                "completed",
            )

            # A second `dev` on the same data dir says so instead of fighting for the ports.
            code, _, err = await run(FLOWMAESTRO, "dev", *args, env=env)
            assert code == 5, err
            assert "already running" in err

            # `watch --json` on a finished execution: its whole history, then exit 0.
            code, out, err = await run(
                FLOWMAESTRO, "watch", demo, "--json", "--url", ui, "--token", token, env=env
            )
            assert code == 0, err
            replayed = [json.loads(line) for line in out.splitlines()]
            assert [e["position"] for e in replayed] == [e["position"] for e in history]
            assert replayed == history

            # ...and on a live one it follows to the end.
            live_env = {**env, "FLOWMAESTRO_TEMPORAL_ADDRESS": dev.banner["Temporal"]}
            start_approval = (
                "run",
                str(EXAMPLES / "approval.yaml"),
                "--user",
                "dev",
                "--input",
                "amount=500",
            )
            code, out, err = await run(FLOWMAESTRO, *start_approval, env=live_env)
            assert code == 0, err
            live = out.strip()
            watching = asyncio.create_task(
                run(FLOWMAESTRO, "watch", live, "--json", "--url", ui, "--token", token, env=env)
            )
            await watcher.follow(live)
            followed = await watcher.until_ended(live)
            code, out, err = await asyncio.wait_for(watching, 60)
            assert code == 0, err
            lines = [json.loads(line) for line in out.splitlines()]
            assert lines == followed
            assert "user_input:received" in [e["type"] for e in lines]

            # The terminal view answers a prompt typed in (a wrong answer first).
            code, out, err = await run(FLOWMAESTRO, *start_approval, env=live_env)
            assert code == 0, err
            asked = out.strip()
            code, out, err = await run(
                FLOWMAESTRO,
                "watch",
                asked,
                "--interactive",
                "--url",
                ui,
                "--token",
                token,
                env=env,
                stdin="maybe\nn\n",
            )
            assert code == 0, err + out
            assert "answer y or n" in out
            assert '"approved": false' in out

            # A prompt answered elsewhere closes in the terminal too.
            code, out, err = await run(FLOWMAESTRO, *start_approval, env=live_env)
            assert code == 0, err
            elsewhere = out.strip()
            terminal = await asyncio.create_subprocess_exec(
                FLOWMAESTRO,
                *("watch", elsewhere, "--interactive", "--url", ui, "--token", token),
                env=env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                assert terminal.stdout is not None
                shown = ""
                async with asyncio.timeout(60):
                    while "[y/n]" not in shown:
                        chunk = await terminal.stdout.read(4096)
                        assert chunk, shown
                        shown += chunk.decode()
                await watcher.follow(elsewhere)
                await watcher.until_ended(elsewhere)
                async with asyncio.timeout(60):
                    shown += (await terminal.stdout.read()).decode()
                    assert await terminal.wait() == 0, shown
            finally:
                if terminal.returncode is None:
                    terminal.kill()
                    await terminal.wait()
            assert "closed meanwhile (answered elsewhere, or timed out)" in shown
            assert '"approved": true' in shown
        finally:
            await watcher.client.disconnect()

        tree = dev.tree()
        assert len(tree) >= 3, tree
        code = await dev.interrupt()
        assert code == 0, dev.output
        psutil.wait_procs(tree, timeout=10)
        assert alive(tree) == [], dev.output
        assert "stopped; nothing left running" in dev.output


async def test_dev_on_the_embedded_postgres_stops_it_too(tmp_path: Path) -> None:
    state = tmp_path / "state"
    args = [
        "--data-dir",
        str(state),
        "--port",
        str(free_port()),
        "--temporal-port",
        str(free_port()),
        "--temporal-ui-port",
        "0",
        "--no-demo",
    ]
    async with running_dev(args, child_env()) as dev:
        await dev.wait_ready()
        assert "Temporal UI" not in dev.banner
        postmaster = psutil.Process(
            int((state / "pgdata" / "postmaster.pid").read_text().split()[0])
        )
        tree = [*dev.tree(), postmaster]
        assert await dev.interrupt() == 0, dev.output
        psutil.wait_procs(tree, timeout=10)
        assert alive(tree) == [], dev.output


async def test_ctrl_c_while_the_embedded_postgres_starts_leaves_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    args = [
        "--data-dir",
        str(state),
        "--port",
        str(free_port()),
        "--temporal-port",
        str(free_port()),
    ]
    async with running_dev(args, child_env()) as dev:
        await dev.wait_output("postgres: starting the embedded server", timeout=120)
        assert await dev.interrupt() == 0, dev.output
    assert "started temporal" not in dev.output
    assert alive(with_data_dir(state)) == []


def with_data_dir(state: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if str(state) in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


async def test_a_part_that_dies_stops_everything(
    database_dsn: str, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    queue = f"dev-{uuid.uuid4().hex[:8]}"
    # The gateway cannot read its key file: it exits during start-up.
    env = child_env(
        FLOWMAESTRO_DATABASE_URL=database_dsn,
        FLOWMAESTRO_TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        FLOWMAESTRO_TASK_QUEUE=queue,
        FLOWMAESTRO_JWT_PUBLIC_KEY=str(tmp_path / "missing.pem"),
    )
    args = ["--data-dir", str(tmp_path / "state"), "--port", str(free_port()), "--no-demo"]
    async with running_dev(args, env) as dev:
        async with asyncio.timeout(120):
            code = await dev.proc.wait()
    assert code == 1, dev.output
    assert "error: gateway exited with status 1" in dev.output
    assert "FlowMaestro is running" not in dev.output
    assert "started worker" in dev.output
    # The worker it had started (found by its environment) is gone too.
    assert alive(with_task_queue(queue)) == []


def with_task_queue(queue: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get("FLOWMAESTRO_TASK_QUEUE") == queue:
                found.append(process)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found

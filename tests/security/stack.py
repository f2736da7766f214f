"""The real stack the gateway attacks run against: `flowmaestro gateway` and `flowmaestro
worker` as subprocesses (their own logging, their own settings from the environment) on the
test's Postgres and the session's Temporal dev server; plus the bystander check that another
user (in a process of her own) is still served while an attack runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import statistics
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import httpx
from websockets.asyncio.client import connect

from tests.gateway.harness import SECRET, token
from tests.security.bystander import ANSWER as BYSTANDER_ANSWER
from tests.security.bystander import TRIVIAL_FLOW as TRIVIAL_FLOW
from tests.security.bystander import USER as BYSTANDER
from tests.support.ports import free_port
from tests.support.processes import FLOWMAESTRO, Child, child_env

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from temporalio.client import Client
    from websockets.asyncio.client import ClientConnection

# Temporal's dev server hands a workflow task to the polling worker 2-3 ms after it is
# scheduled while it has been idle, and about 40 ms after once it has been busy for a second
# or so (a bare temporalio Worker and workflow, no code of ours, shows the same: 60 ms flows
# of 5 workflow tasks become 245 ms ones after the fourth). Her trivial flow (3 such tasks)
# therefore takes about 0.1 s or about 0.2 s from one moment to the next, whatever the
# gateway does; CI saw 0.097 s quiet, then 0.200 s. A gateway stall costs more than this.
TEMPORAL_DISPATCH_MODES = 0.15


def slowed(attacked: float, quiet: float) -> bool:
    """Whether her flow under attack took more than twice its quiet time, beyond what
    Temporal's own dispatch modes account for."""
    return attacked > 2 * quiet + TEMPORAL_DISPATCH_MODES


_JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")
ROOT = Path(__file__).parents[2]


@dataclass
class Stack:
    url: str
    queue: str
    gateway: Child

    @property
    def log(self) -> str:
        """Everything the gateway process has written (uvicorn's access log included)."""
        return self.gateway.output

    def auth(self, user: str, ttl: int = 600) -> dict[str, str]:
        return auth(user, ttl)

    async def wait_output(self, text: str, timeout: float = 30) -> None:
        await self.gateway.wait_output(text, timeout)


@contextlib.asynccontextmanager
async def gateway_stack(
    database_dsn: str,
    client: Client,
    *,
    workers: int | None = None,
    **limits: Any,
) -> AsyncIterator[Stack]:
    """`flowmaestro worker` and `flowmaestro gateway` (its default process count, one per
    core, unless `workers` says), each a process of its own as in production, so that an
    attack's clients in the test process slow neither; `limits` go to both as
    FLOWMAESTRO_LIMITS__<NAME> variables."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = child_env(
        FLOWMAESTRO_DATABASE_URL=database_dsn,
        FLOWMAESTRO_TEMPORAL_ADDRESS=client.service_client.config.target_host,
        FLOWMAESTRO_JWT_SECRET=SECRET,
        FLOWMAESTRO_DRAIN_SECONDS="0",  # stopped with SIGTERM: no one to hand sockets to
        FLOWMAESTRO_TASK_QUEUE=queue,
        FLOWMAESTRO_LOG_LEVEL="info",
        TMPDIR=os.environ.get("TMPDIR"),
        **{f"FLOWMAESTRO_LIMITS__{k.upper()}": str(v) for k, v in limits.items()},
    )
    count = () if workers is None else ("--workers", str(workers))
    async with (
        Child(FLOWMAESTRO, "worker", env=env, name="worker") as worker,
        Child(
            FLOWMAESTRO, "gateway", "--port", str(port), *count, env=env, name="gateway"
        ) as gateway,
    ):
        stack = Stack(f"http://127.0.0.1:{port}", queue, gateway)
        await worker.wait_output("worker running on task queue", timeout=60)
        await gateway.wait_output("Uvicorn running on", timeout=60)
        yield stack
    # Whatever the test did, the gateway's log holds no token and no secret.
    assert _JWT.search(stack.log) is None, _JWT.search(stack.log)
    assert SECRET not in stack.log


class Served(Protocol):
    """A gateway the tests reach at `url` (a process of its own, or one under uvicorn here)."""

    @property
    def url(self) -> str: ...


def auth(user: str, ttl: int = 600) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(user, ttl)}"}


async def first_event(
    stack: Served,
    user: str,
    execution_id: str,
    kinds: set[str],
    timeout: float = 30,
    ttl: int = 600,
) -> dict[str, Any]:
    """The first envelope of one of `kinds` in the execution's SSE stream (from the start)."""
    async with (
        httpx.AsyncClient(base_url=stack.url, timeout=timeout) as http,
        asyncio.timeout(timeout),
        http.stream(
            "GET",
            f"/api/executions/{execution_id}/stream",
            params={"after": 0},
            headers=auth(user, ttl),
        ) as events,
    ):
        async for line in events.aiter_lines():
            if line.startswith("data: {"):
                envelope: dict[str, Any] = json.loads(line.removeprefix("data: "))
                if envelope["type"] in kinds:
                    return envelope
    raise AssertionError(f"the stream of {execution_id} ended before any of {kinds}")


async def still_serving(stack: Served) -> None:
    """Another user is served while an attack runs: /healthz answers within a second and
    their trivial flow completes (its SSE stream, from the start, reaches the end)."""
    # An hour's token: valid still on a gateway clock a test has moved on by minutes.
    bystander = auth(BYSTANDER, 3600)
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        health = await asyncio.wait_for(http.get("/healthz"), 1)
        assert health.status_code == 200
        started = await http.post("/api/executions", json={"flow": TRIVIAL_FLOW}, headers=bystander)
        assert started.status_code == 201, started.text
    end = await first_event(
        stack,
        BYSTANDER,
        started.json()["executionId"],
        {"execution:completed", "execution:failed"},
        ttl=3600,
    )
    assert end["type"] == "execution:completed", end


async def huge_request(
    url: str,
    path: str,
    headers: dict[str, str],
    head: bytes,
    size: int,
    *,
    declared: bool,
    chunk: int = 64 << 10,
) -> tuple[int, dict[str, Any], int]:
    """POST `head` then filler up to `size` bytes (chunked, or with its Content-Length
    declared), reading the answer while sending: (status, JSON body, bytes sent when the
    answer arrived). A server that reads the whole body first answers only at the end."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    framing = f"Content-Length: {size}" if declared else "Transfer-Encoding: chunked"
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{lines}{framing}\r\n\r\n".encode()
    )
    answer = asyncio.create_task(reader.readuntil(b"\r\n\r\n"))
    sent = 0
    filler = b"a" * chunk
    try:
        for piece in [head] + [filler] * ((size - len(head)) // chunk):
            if answer.done():
                break
            writer.write(piece if declared else f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sent += len(piece)
            await writer.drain()
            # drain() does not yield while the socket takes every byte: without this the
            # answer's reader would only run once the loop ended, and `sent` would measure
            # this client's scheduling instead of when the gateway answered.
            await asyncio.sleep(0)
    except ConnectionError:
        pass  # the gateway closed the connection after answering
    status_line = (await asyncio.wait_for(answer, 30)).decode()
    rest = await asyncio.wait_for(reader.read(65536), 30)
    writer.close()
    body: dict[str, Any] = json.loads(rest[rest.index(b"{") : rest.rindex(b"}") + 1])
    return int(status_line.split()[1]), body, sent


class Bystander:
    """Carol beside an attack: tests/security/bystander.py in a process of her own (her socket,
    her trivial flow, /healthz). `quiet()` measures her flow before the attack; `served(quiet)`
    checks, while it runs, that /healthz answers within 200 ms, her flow completes within
    twice its quiet time (medians of a few runs each) and her socket is still connected."""

    def __init__(self, stack: Served) -> None:
        self._child = Child(
            sys.executable,
            "-m",
            "tests.security.bystander",
            stack.url,
            stdin=True,
            cwd=ROOT,
            name="carol",
        )
        self.flows: list[dict[str, float]] = []
        """Every measured flow: `took` and `posted` (seconds), for the failure messages."""

    async def __aenter__(self) -> Bystander:
        await self._child.start()
        await self._answer()
        # Not measured: the first flow on a fresh stack pays for first connections and
        # imports (about 0.1 s more than the next ones).
        await self.flow_time()
        self.flows.clear()
        return self

    async def __aexit__(self, *_: object) -> None:
        stdin = self._child.proc.stdin
        assert stdin is not None
        stdin.close()  # she closes her socket and ends
        await self._child.stop(timeout=10) if self._child.returncode is None else None

    async def _answer(self, command: str | None = None) -> dict[str, Any]:
        seen = self._child.count(BYSTANDER_ANSWER)
        if command is not None:
            await self._child.write(f"{command}\n".encode())
        await self._child.wait_until(
            lambda: self._child.count(BYSTANDER_ANSWER) > seen, f"carol's {command}", 60
        )
        lines = [x for x in self._child.lines if x.startswith(BYSTANDER_ANSWER)]
        answer: dict[str, Any] = json.loads(lines[seen].removeprefix(BYSTANDER_ANSWER))
        assert "error" not in answer, answer
        return answer

    async def flow_time(self) -> float:
        answer = await self._answer("flow")
        self.flows.append(answer)
        took: float = answer["took"]
        return took

    async def median_flow_time(self, runs: int = 5) -> float:
        """The median of a few runs: one run alone is at the mercy of whatever else the
        machine's two cores are doing at that moment."""
        return statistics.median([await self.flow_time() for _ in range(runs)])

    async def quiet(self) -> float:
        """Her flow's time with nothing else going on."""
        return await self.median_flow_time()

    async def served(self, quiet: float) -> None:
        await self.healthy()
        took = await self.median_flow_time()
        print(f"carol: flow {took:.3f} s (quiet {quiet:.3f} s)")
        assert not slowed(took, quiet), (
            f"the flow took {took:.3f} s, {quiet:.3f} s when quiet: {self}"
        )
        await self.healthy()

    async def healthy(self) -> None:
        """/healthz answers within 200 ms, and her socket is still connected."""
        health = await self._answer("health")
        print(f"carol: /healthz {health['took'] * 1000:.1f} ms")
        assert health["status"] == 200, health
        assert health["took"] < 0.2, f"/healthz took {health['took'] * 1000:.0f} ms"
        assert health["disconnects"] == [], health

    async def served_between(self, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        """`served`, for an attack that can be paused: her quiet and attacked flows alternate
        (the attack paused, then resumed), so that what the rest of the machine does at the
        time weighs on both alike."""
        quiet: list[float] = []
        attacked: list[float] = []
        for _ in range(5):
            pause()
            quiet.append(await self.flow_time())
            resume()
            attacked.append(await self.flow_time())
        await self.healthy()
        took, calm = statistics.median(attacked), statistics.median(quiet)
        print(f"carol: flow {took:.3f} s attacked, {calm:.3f} s paused")
        assert not slowed(took, calm), (attacked, quiet)

    def __str__(self) -> str:
        return "flows (took/posted, ms): " + ", ".join(
            f"{f['took'] * 1000:.0f}/{f['posted'] * 1000:.0f}" for f in self.flows
        )


async def open_socket(url: str, user: str) -> tuple[ClientConnection, str]:
    """A raw Engine.IO/Socket.IO websocket of `user` (cheap beside python-socketio's client:
    an attack opens many), and the server's answer to its namespace CONNECT (`40{...}`
    accepted, `44{...}` refused)."""
    parts = urlsplit(url)
    ws = await connect(
        f"ws://{parts.netloc}/socket.io/?EIO=4&transport=websocket", ping_interval=None
    )
    assert str(await ws.recv()).startswith("0{")
    await ws.send("40" + json.dumps({"token": token(user)}))
    return ws, str(await ws.recv())


async def ack(ws: ClientConnection, ack_id: int, timeout: float = 30) -> dict[str, Any]:
    """The ack `ack_id` on a raw socket (events before it are skipped)."""
    return (await acks(ws, [ack_id], timeout))[ack_id]


async def acks(
    ws: ClientConnection, ack_ids: list[int], timeout: float = 30
) -> dict[int, dict[str, Any]]:
    """The acks `ack_ids` on a raw socket, in whatever order they come (events skipped)."""
    got: dict[int, dict[str, Any]] = {}
    async with asyncio.timeout(timeout):
        while len(got) < len(ack_ids):
            frame = str(await ws.recv())
            if frame.startswith("43"):
                head, _, body = frame[2:].partition("[")
                if int(head) in ack_ids:
                    got[int(head)] = json.loads("[" + body)[0]
    return got


async def call(
    ws: ClientConnection, ack_id: int, event: str, payload: Any, timeout: float = 30
) -> dict[str, Any]:
    await ws.send(f"42{ack_id}" + json.dumps([event, payload]))
    return await ack(ws, ack_id, timeout)


def refusal_code(connect_answer: str) -> str:
    """The code of a refused CONNECT (`44{"message", "data": {"code", ...}}`)."""
    assert connect_answer.startswith("44"), connect_answer
    code: str = json.loads(connect_answer[2:])["data"]["code"]
    return code

"""The topology of docker-compose.yml without Docker: Debian's nginx running deploy/nginx.conf
(only the upstream addresses, the listen ports, the certificate and the file paths changed),
in front of gateway processes on this machine, with TLS from a throwaway CA; and the clients
that follow a user's channel through it over Socket.IO and over the SSE fallback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from flowmaestro.client import Client
from flowmaestro.events import ExecutionCompleted
from tests.certificates import certificate
from tests.gateway.harness import token
from tests.support.ports import free_port
from tests.support.processes import Child, ready

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    import asyncpg

    from flowmaestro.events import Event

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@dataclass(frozen=True, slots=True)
class Edge:
    """The proxy as clients see it: `url` (https), `plain_url` (http, redirects) and the
    TLS context that trusts its certificate."""

    url: str
    plain_url: str
    tls: ssl.SSLContext


def _replace(text: str, before: str, after: str) -> str:
    assert before in text, f"deploy/nginx.conf has no `{before}`"
    return text.replace(before, after)


def nginx_config(
    deploy: str,
    gateways: Sequence[int | str],
    ports: tuple[int, int],
    prefix: Path,
    cert: tuple[Path, Path],
) -> str:
    """deploy/nginx.conf with local addresses, keeping every file nginx writes under
    `prefix`; `ports` are (plain, tls). A gateway is a port on 127.0.0.1 or `host:port`; past
    the file's own replicas, more lines like its first."""
    lines = deploy.splitlines()
    replicas = [line for line in lines if "server gateway-" in line]
    first = "gateway-1:8000"
    assert replicas and first in replicas[0], f"deploy/nginx.conf has no `server {first}`"
    upstream = "\n".join(
        replicas[0].replace(first, f"127.0.0.1:{g}" if isinstance(g, int) else g) for g in gateways
    )
    conf = _replace(deploy, "\n".join(replicas), upstream)
    conf = _replace(conf, "listen 80;", f"listen 127.0.0.1:{ports[0]};")
    conf = _replace(conf, "listen 443 ssl;", f"listen 127.0.0.1:{ports[1]} ssl;")
    conf = _replace(conf, "/etc/nginx/tls/tls.crt", str(cert[0]))
    conf = _replace(conf, "/etc/nginx/tls/tls.key", str(cert[1]))
    conf = _replace(conf, "worker_processes auto;", "worker_processes 1;")
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = _replace(
        conf,
        "access_log /var/log/nginx/access.log;",
        f"access_log {prefix / 'access.log'};\n{temp}",
    )
    conf = _replace(conf, "/var/log/nginx/error.log warn", f"{prefix / 'error.log'} info")
    return f"daemon off;\npid {prefix / 'nginx.pid'};\n{conf}"


def write_config(
    gateways: Sequence[int | str], ports: tuple[int, int], prefix: Path
) -> tuple[Path, tuple[Path, Path]]:
    prefix.mkdir(parents=True, exist_ok=True)
    cert = certificate(prefix, "localhost", ("127.0.0.1",))
    conf = prefix / "nginx.conf"
    conf.write_text(
        nginx_config((ROOT / "deploy" / "nginx.conf").read_text(), gateways, ports, prefix, cert)
    )
    return conf, cert


@contextlib.asynccontextmanager
async def nginx(gateways: Sequence[int | str], prefix: Path) -> AsyncIterator[Edge]:
    """nginx in front of `gateways` until the block ends."""
    assert NGINX is not None
    ports = (free_port(), free_port())
    conf, cert = write_config(gateways, ports, prefix)
    edge = Edge(
        f"https://127.0.0.1:{ports[1]}",
        f"http://127.0.0.1:{ports[0]}",
        ssl.create_default_context(cafile=str(cert[0])),
    )
    args = (NGINX, "-p", prefix, "-e", prefix / "error.log", "-c", conf)
    async with Child(*args, name="nginx") as proc:
        # The plain port answers /healthz (the container's check) as well.
        await ready(edge.plain_url, proc, path="/healthz", timeout=30)
        yield edge


class StreamFollower:
    """The SSE fallback as a client: `GET /api/stream`, resumed with Last-Event-ID."""

    def __init__(self, url: str, user: str, tls: ssl.SSLContext) -> None:
        self._url = url
        self._tls = tls
        self._headers = {"Authorization": f"Bearer {token(user)}"}
        self._channel = f"user:{user}"
        self.events: list[dict[str, Any]] = []
        self.opened = 0
        self.ready = asyncio.Event()
        self._changed = asyncio.Condition()
        self._last: str | None = None

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=60), verify=self._tls) as http:
            while True:
                headers = dict(self._headers)
                params: dict[str, Any] = {"channel": self._channel}
                if self._last is None:
                    params["after"] = 0
                else:
                    headers["Last-Event-ID"] = self._last
                with contextlib.suppress(httpx.HTTPError):
                    async with http.stream(
                        "GET", f"{self._url}/api/stream", params=params, headers=headers
                    ) as response:
                        if response.status_code == 200:
                            self.opened += 1
                            await self._read(response)
                await asyncio.sleep(0.2)  # then resume, as an EventSource would

    async def _read(self, response: httpx.Response) -> None:
        frame: dict[str, str] = {}
        async for line in response.aiter_lines():
            if line:
                if not line.startswith(":"):
                    field, _, value = line.partition(": ")
                    frame[field] = value
                continue
            if "id" in frame:
                self._last = frame["id"]
            if frame.get("event") == "ready":
                self.ready.set()
            elif "data" in frame:
                async with self._changed:
                    self.events.append(json.loads(frame["data"]))
                    self._changed.notify_all()
            frame = {}

    async def wait_for(self, done: Any, timeout: float) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: done(self.events))


class SocketFollower:
    """The Python client over WebSocket, following the user's channel from the start."""

    def __init__(self, client: Client, user: str) -> None:
        self.client = client
        self._channel = f"user:{user}"
        self.events: list[Event] = []
        self.subscribed = asyncio.Event()
        self._changed = asyncio.Condition()

    async def run(self) -> None:
        def on_subscribed(_: int) -> None:
            self.subscribed.set()

        async for event in self.client.events(self._channel, after=0, on_subscribed=on_subscribed):
            async with self._changed:
                self.events.append(event)
                self._changed.notify_all()

    async def wait_for(self, done: Any, timeout: float) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: done(self.events))


def completed(envelopes: list[dict[str, Any]], ids: set[str]) -> bool:
    return ids <= {e["executionId"] for e in envelopes if e["type"] == "execution:completed"}


async def all_completed(
    ids: set[str], sockets: list[SocketFollower], streams: list[StreamFollower], timeout: float
) -> None:
    """Until every follower has seen every execution of `ids` complete."""
    for stream in streams:
        await stream.wait_for(lambda e: completed(e, ids), timeout)
    for socket in sockets:
        await socket.wait_for(
            lambda e: ids <= {x.execution_id for x in e if isinstance(x, ExecutionCompleted)},
            timeout,
        )


async def follow(
    edge: Edge, user: str, each: int, tasks: list[asyncio.Task[None]]
) -> tuple[list[SocketFollower], list[StreamFollower]]:
    """`each` Socket.IO and `each` SSE followers of the user's channel through the proxy,
    opened back to back (round robin spreads them), running in `tasks`."""
    sockets = [
        SocketFollower(Client(edge.url, token(user), tls=edge.tls), user) for _ in range(each)
    ]
    for socket in sockets:
        await socket.client.__aenter__()
        tasks.append(asyncio.create_task(socket.run()))
        await asyncio.wait_for(socket.subscribed.wait(), 60)
    streams = [StreamFollower(edge.url, user, edge.tls) for _ in range(each)]
    for stream in streams:
        tasks.append(asyncio.create_task(stream.run()))
        await asyncio.wait_for(stream.ready.wait(), 60)
    return sockets, streams


async def assert_exactly_the_database(
    pool: asyncpg.Pool,
    channel: str,
    sockets: list[SocketFollower],
    streams: list[StreamFollower],
) -> None:
    """Every follower holds exactly the channel's positions in the database, in order."""
    expected = [
        r[0]
        for r in await pool.fetch(
            "SELECT position FROM event_channel_positions WHERE channel = $1 ORDER BY 1", channel
        )
    ]
    for socket in sockets:
        assert [e.position for e in socket.events] == expected
    for stream in streams:
        assert [e["position"] for e in stream.events] == expected

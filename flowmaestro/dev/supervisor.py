"""The dev stack's lifetime: start each part in order, wait until each is ready, say where
everything is, and on Ctrl-C (or SIGTERM, or a part dying) stop it all in reverse order."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import httpx

from flowmaestro.database import create_pool, redact_dsn, start_embedded_postgres
from flowmaestro.dev.child import Child, ChildError
from flowmaestro.dev.demo import start_demo
from flowmaestro.dev.lock import DevLock
from flowmaestro.dev.postgres import stop_embedded_postgres
from flowmaestro.dev.readiness import (
    connect_when_healthy,
    has_workflow_poller,
    http_ok,
    wait_until,
)
from flowmaestro.dev.secret import dev_jwt_secret
from flowmaestro.dev.temporal_server import dev_server_argv
from flowmaestro.errors import FlowMaestroError
from flowmaestro.gateway.auth import mint_token
from flowmaestro.migrate import migrate
from flowmaestro.temporal_connection import connect_temporal
from flowmaestro.webui import ui_dir

if TYPE_CHECKING:
    from flowmaestro.dev.console import Console
    from flowmaestro.settings import Settings

# SIGHUP too: the children live in their own sessions, so a closed terminal reaches only us.
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_TEMPORAL_HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class DevOptions:
    host: str
    port: int
    temporal_port: int
    temporal_ui_port: int | None
    """None: the Temporal dev server runs headless."""
    user_id: str
    demo: bool
    ready_timeout: float


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where the running stack answers, as the banner and the lock file tell it."""

    ui: str
    token: str
    temporal: str
    temporal_ui: str | None
    demo_execution: str | None
    ui_built: bool


class Supervisor:
    def __init__(self, settings: Settings, options: DevOptions, console: Console) -> None:
        self._settings = settings
        self._options = options
        self._console = console
        self._children: list[Child] = []
        self._stopping = False

    async def run(self) -> int:
        """Run until stopped; 0 after Ctrl-C or SIGTERM, an error when a part fails."""
        lock = DevLock(self._settings.state_dir)
        lock.acquire()
        main = asyncio.current_task()
        assert main is not None
        loop = asyncio.get_running_loop()
        for sig in _STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, main)
        try:
            async with contextlib.AsyncExitStack() as stack:
                await self._start(stack, lock)
                await self._until_a_child_exits()
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            main.uncancel()
            self._console.note("stopped; nothing left running")
            return 0
        finally:
            for sig in _STOP_SIGNALS:
                loop.remove_signal_handler(sig)
            lock.release()

    def _on_signal(self, main: asyncio.Task[int]) -> None:
        if not self._stopping:
            self._stopping = True
            self._console.note("stopping (press Ctrl-C again to kill)")
            main.cancel()
            return
        for child in self._children:
            child.kill()

    async def _start(self, stack: contextlib.AsyncExitStack, lock: DevLock) -> None:
        settings, options = self._settings, self._options
        self._check_ports_free()
        note = self._console.note

        if settings.database_url:
            dsn = settings.database_url
            note(f"postgres: {redact_dsn(dsn)} (FLOWMAESTRO_DATABASE_URL)")
        else:
            pgdata = settings.embedded_pgdata
            note(f"postgres: starting the embedded server in {pgdata}")
            # A thread cannot be cancelled: a Ctrl-C during initdb waits for it, then stops it.
            starting = asyncio.ensure_future(asyncio.to_thread(start_embedded_postgres, pgdata))
            stack.push_async_callback(_stop_once_started, starting, pgdata)
            dsn = await asyncio.shield(starting)
        pool = await create_pool(dsn, max_size=2)
        stack.push_async_callback(pool.close)
        async with pool.acquire() as con, pool.acquire() as watch:
            applied = await migrate(con, watch=watch)
        note(f"migrations: applied {', '.join(applied)}" if applied else "migrations: up to date")

        temporal_ui: str | None = None
        if settings.temporal_address:
            address = settings.temporal_address
            note(f"temporal: {address} (FLOWMAESTRO_TEMPORAL_ADDRESS)")
            # Already running, or a configuration mistake: say so at once (exit 4).
            client = await connect_temporal(settings)
        else:
            # Loopback whatever --host says: Temporal's frontend and UI have no auth (anyone
            # reaching them could read and answer every user's executions).
            address = f"{_TEMPORAL_HOST}:{options.temporal_port}"
            argv = dev_server_argv(
                settings.state_dir, _TEMPORAL_HOST, options.temporal_port, options.temporal_ui_port
            )
            await self._spawn(stack, Child("temporal", argv, dict(os.environ), self._console))
            if options.temporal_ui_port is not None:
                temporal_ui = f"http://{_TEMPORAL_HOST}:{options.temporal_ui_port}"
            client = await connect_when_healthy(
                address, settings.temporal_namespace, self._children, options.ready_timeout
            )

        if settings.jwt_secret is not None:
            secret = settings.jwt_secret.get_secret_value()
        else:
            secret, generated = dev_jwt_secret(settings.state_dir)
            note(
                f"{'generated' if generated else 'using'} the development JWT secret "
                f"{secret} (kept in {settings.state_dir / 'jwt-secret'}; "
                "set FLOWMAESTRO_JWT_SECRET to use your own)"
            )
        env = {
            **os.environ,
            "FLOWMAESTRO_DATABASE_URL": dsn,
            "FLOWMAESTRO_TEMPORAL_ADDRESS": address,
            "FLOWMAESTRO_JWT_SECRET": secret,
            "FLOWMAESTRO_STATE_DIR": str(settings.state_dir),
            # One gateway: there is no other to hand its sockets to on a stop.
            "FLOWMAESTRO_DRAIN_SECONDS": "0",
        }
        worker = Child("worker", _flowmaestro("worker"), env, self._console)
        gateway = Child(
            "gateway",
            _flowmaestro("gateway", "--host", options.host, "--port", str(options.port)),
            env,
            self._console,
        )
        await self._spawn(stack, worker)
        await self._spawn(stack, gateway)

        ui = f"http://{options.host}:{options.port}/"
        timeout = options.ready_timeout
        await wait_until(
            "the worker",
            has_workflow_poller(client, settings.task_queue, worker.pid),
            self._children,
            timeout,
        )
        async with httpx.AsyncClient(timeout=5) as http:
            await wait_until(
                f"the gateway at {ui}", http_ok(http, f"{ui}readyz"), self._children, timeout
            )
            if temporal_ui is not None:
                await wait_until(
                    f"the Temporal UI at {temporal_ui}",
                    http_ok(http, temporal_ui),
                    self._children,
                    timeout,
                )

        token = mint_token(
            secret,
            options.user_id,
            # As long as the gateway accepts (a day by default); `flowmaestro token` mints others.
            settings.limits.token_max_lifetime_seconds,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )
        demo = (
            await start_demo(client, pool, options.user_id, settings.task_queue)
            if options.demo
            else None
        )
        endpoints = Endpoints(
            ui, token, address, temporal_ui, demo, (ui_dir(settings) / "index.html").is_file()
        )
        lock.record(
            {
                "pid": os.getpid(),
                "ui": ui,
                "token": token,
                "temporal": address,
                "temporalUi": temporal_ui,
                "demoExecution": demo,
                # Where its signing secret is: `watch` mints fresh tokens with it.
                "dataDir": str(settings.state_dir),
            }
        )
        self._console.block(banner(endpoints, options.user_id))

    async def _spawn(self, stack: contextlib.AsyncExitStack, child: Child) -> None:
        await child.start()
        self._children.append(child)
        stack.push_async_callback(child.stop)
        self._console.note(f"started {child.name} (pid {child.pid})")

    async def _until_a_child_exits(self) -> NoReturn:
        waits = {asyncio.create_task(child.wait()): child for child in self._children}
        try:
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        child = waits[done.pop()]
        raise ChildError(
            f"{child.name} exited with status {child.returncode}; stopped everything",
            hint="its log lines above say why",
        )

    def _check_ports_free(self) -> None:
        """A clear refusal now beats a child failing to bind later."""
        options = self._options
        wanted = [("--port", options.host, options.port)]
        if not self._settings.temporal_address:
            wanted.append(("--temporal-port", _TEMPORAL_HOST, options.temporal_port))
            if options.temporal_ui_port is not None:
                wanted.append(("--temporal-ui-port", _TEMPORAL_HOST, options.temporal_ui_port))
        for flag, host, port in wanted:
            if port_in_use(host, port):
                raise FlowMaestroError(
                    f"port {port} on {host} is in use",
                    hint=f"stop what uses it, or pass {flag} with a free port",
                )


def port_in_use(host: str, port: int) -> bool:
    """Whether something listens on (host, port). SO_REUSEADDR, as servers bind, so the
    connections a stopped `dev` left in TIME_WAIT do not count."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


async def _stop_once_started(starting: asyncio.Future[str], pgdata: Path) -> None:
    with contextlib.suppress(Exception):
        await starting
    await asyncio.to_thread(stop_embedded_postgres, pgdata)


def _flowmaestro(*args: str) -> list[str]:
    """This interpreter running the CLI, so children use the same environment."""
    return [sys.executable, "-m", "flowmaestro", *args]


def cli_name() -> str:
    """How the user types this CLI: `flowmaestro` when the PATH finds this one, else its path
    (`.venv/bin/flowmaestro` in a checkout)."""
    beside = Path(sys.executable).with_name("flowmaestro")
    found = shutil.which("flowmaestro")
    if found is not None and Path(found).resolve() == beside.resolve():
        return "flowmaestro"
    try:
        return str(beside.relative_to(Path.cwd()))
    except ValueError:
        return str(beside)


def banner(endpoints: Endpoints, user_id: str) -> str:
    lines = [
        "",
        "FlowMaestro is running. Ctrl-C stops everything.",
        f"  UI:           {endpoints.ui}",
        *(
            []
            if endpoints.ui_built
            else ["                (not built: with Node 20+ on the PATH, scripts/setup builds it)"]
        ),
        f"  token:        {endpoints.token}",
        f"                (a development JWT for user {user_id!r}: paste it to sign in)",
        f"  Temporal:     {endpoints.temporal}",
    ]
    if endpoints.temporal_ui is not None:
        lines.append(f"  Temporal UI:  {endpoints.temporal_ui}")
    if endpoints.demo_execution is not None:
        execution = endpoints.demo_execution
        lines += [
            f"  demo:         {execution}",
            f"                open {endpoints.ui}#/executions/{execution}",
            f"                or run: {cli_name()} watch {execution}",
        ]
    return "\n".join([*lines, ""])

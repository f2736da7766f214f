"""`flowmaestro gateway --host --port --workers`: the Socket.IO gateway and HTTP API under
uvicorn, in one process per core sharing the port (SO_REUSEPORT, `flowmaestro.reuseport`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import uvicorn
from opentelemetry import trace
from prometheus_client.multiprocess import mark_process_dead

from flowmaestro.cpus import available_cpus
from flowmaestro.database import create_pool, resolve_dsn
from flowmaestro.errors import FlowMaestroError
from flowmaestro.events.outbox.tracing import TRACER
from flowmaestro.gateway import GatewayConfig, create_app, uvicorn_log_config
from flowmaestro.logs import JsonFormatter
from flowmaestro.reuseport import Supervisor, listening_socket
from flowmaestro.runtime import run_async, settings_of
from flowmaestro.security.egress import EgressGuard
from flowmaestro.temporal_connection import connect_temporal
from flowmaestro.webui import ui_dir

if TYPE_CHECKING:
    import socket
    from collections.abc import Awaitable, Callable, Iterator
    from types import FrameType

    from flowmaestro.settings import Settings

_ROOT = Path(__file__).resolve().parents[2]


def gateway_config(settings: Settings, dsn: str) -> GatewayConfig:
    """The gateway's configuration from the settings (the sequencer on `dsn` if enabled)."""
    if settings.jwt_secret is None and settings.jwt_public_key is None and not settings.jwks_url:
        raise FlowMaestroError(
            "no JWT key configured",
            hint="set FLOWMAESTRO_JWT_SECRET (or FLOWMAESTRO_JWT_PUBLIC_KEY), or use `flowmaestro dev`",
        )
    return GatewayConfig(
        jwt_secret=settings.jwt_secret.get_secret_value() if settings.jwt_secret else None,
        jwt_public_key=settings.jwt_public_key,
        jwks_url=settings.jwks_url,
        jwks_max_age=settings.jwks_max_age_seconds,
        jwks_min_refresh_interval=settings.jwks_min_refresh_seconds,
        jwt_audience=settings.jwt_audience,
        jwt_issuer=settings.jwt_issuer,
        jwt_workspace_claim=settings.jwt_workspace_claim,
        jwt_groups_claim=settings.jwt_groups_claim,
        task_queue=settings.task_queue,
        flows_dir=settings.flows_dir or _ROOT / "examples",
        static_dir=ui_dir(settings),
        sequencer_dsn=dsn if settings.run_sequencer else None,
        broker_url=settings.broker_url.get_secret_value() if settings.broker_url else None,
        broker_channel=settings.broker_channel,
        admin_token=settings.admin_token.get_secret_value() if settings.admin_token else None,
        limits=settings.limits,
        presence_heartbeat=settings.presence_heartbeat_seconds,
        presence_ttl=settings.presence_ttl_seconds,
        drain_seconds=settings.drain_seconds,
        metrics_dir=settings.metrics_dir,
    )


@click.command("gateway")
@click.option("--host", default=None, help="bind address [FLOWMAESTRO_GATEWAY_HOST]")
@click.option("--port", type=int, default=None, help="port [FLOWMAESTRO_GATEWAY_PORT]")
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    default=None,
    help="processes sharing the port, 0: one per CPU of the container's quota"
    " [FLOWMAESTRO_GATEWAY_WORKERS]",
)
@click.option(
    "--reuse-port",
    is_flag=True,
    help="bind with SO_REUSEPORT, so that other processes may serve the same port",
)
@click.pass_context
def gateway_command(
    ctx: click.Context, host: str | None, port: int | None, workers: int | None, reuse_port: bool
) -> None:
    """Serve Socket.IO (/socket.io), the HTTP API (/api, /docs), /metrics and the UI."""
    settings = settings_of(ctx)
    host = host or settings.gateway_host
    port = port if port is not None else settings.gateway_port
    count = workers if workers is not None else settings.gateway_workers
    count = count or available_cpus()
    if count == 1:
        run_async(serve(settings, host, port, reuse_port, settings.gateway_pool_size or 20))
        return
    # Fail here, once, not in N workers restarted in a loop: a taken port, no key, Postgres
    # or Temporal away.
    dsn = run_async(_preflight(settings, host, port))
    argv = [sys.executable, "-m", "flowmaestro", "gateway", "--workers", "1", "--reuse-port"]
    argv += ["--host", host, "--port", str(port)]

    with _metrics_dir(settings) as metrics_dir:

        def env(index: int) -> dict[str, str]:
            # One sequencer candidate is enough (the advisory lock keeps one active anyway).
            sequencer = settings.run_sequencer and index == 0
            pool_size = settings.gateway_pool_size or max(4, 20 // count)
            return {
                **os.environ,
                "FLOWMAESTRO_DATABASE_URL": dsn,
                "FLOWMAESTRO_RUN_SEQUENCER": "true" if sequencer else "false",
                "FLOWMAESTRO_GATEWAY_POOL_SIZE": str(pool_size),
                # Read by prometheus_client when it is imported, and by the settings.
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            }

        supervisor = Supervisor(
            count,
            lambda _: argv,
            env,
            # A worker drains for drain_seconds after its SIGTERM (`_Server`) before it stops.
            stop_timeout=settings.drain_seconds + 10,
            # Its live gauges leave the sums; its counters stay in them.
            on_exit=lambda pid: mark_process_dead(pid, str(metrics_dir)),  # type: ignore[no-untyped-call]
        )
        code = run_async(supervisor.run())
    sys.exit(code)


@contextlib.contextmanager
def _metrics_dir(settings: Settings) -> Iterator[Path]:
    """The processes' shared metrics directory: the configured one emptied (files of an
    earlier run would add its counts), else a temporary one removed afterwards."""
    if settings.metrics_dir is not None:
        settings.metrics_dir.mkdir(parents=True, exist_ok=True)
        for stale in settings.metrics_dir.glob("*.db"):
            stale.unlink()
        yield settings.metrics_dir
        return
    with tempfile.TemporaryDirectory(prefix="flowmaestro-metrics-") as directory:
        yield Path(directory)


class _Server(uvicorn.Server):
    """uvicorn on a socket we bound: it says where it listens, as it does when it binds.

    SIGTERM (a deploy, a scale-in) drains first: the listener closes (the proxy sends new
    clients to the other gateways), `drain` hands the sockets over, then uvicorn shuts down
    as usual. SIGINT, or a second signal, stops at once."""

    def __init__(
        self, config: uvicorn.Config, drain: Callable[[], Awaitable[None]], drain_seconds: float
    ) -> None:
        super().__init__(config)
        self._drain = drain
        self._drain_seconds = drain_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        first_term = sig == signal.SIGTERM and self._draining is None and not self.should_exit
        if first_term and self._loop is not None:
            # A signal handler: the drain starts on the loop, not in here.
            self._loop.call_soon_threadsafe(self._start_drain)
            return
        super().handle_exit(sig, frame)

    def _start_drain(self) -> None:
        if self._draining is None:
            self._draining = asyncio.create_task(self._drain_then_exit())

    async def _drain_then_exit(self) -> None:
        log = logging.getLogger("uvicorn.error")
        log.info("draining: handing sockets to other gateways over %.0f s", self._drain_seconds)
        for server in self.servers:
            server.close()
        try:
            async with asyncio.timeout(self._drain_seconds + 5):
                await self._drain()
        except TimeoutError:
            log.warning("drain did not finish in time; closing the remaining sockets")
        finally:
            self.should_exit = True

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)
        if self.started and sockets:
            host, port = sockets[0].getsockname()[:2]
            where = f"[{host}]" if ":" in host else host
            logging.getLogger("uvicorn.error").info(
                "Uvicorn running on http://%s:%d (Press CTRL+C to quit)", where, port
            )


def _log_config(settings: Settings) -> dict[str, Any]:
    """uvicorn's logging (tokens redacted) in the configured format."""
    config = uvicorn_log_config()
    if settings.log_format == "json":
        for name in config["formatters"]:
            config["formatters"][name] = {"()": JsonFormatter}
    return config


async def _preflight(settings: Settings, host: str, port: int) -> str:
    """The DSN the workers use (an embedded server is started once, here), once every check
    a worker would fail at startup has passed."""
    listening_socket(host, port, reuse_port=True).close()
    dsn = resolve_dsn(settings)
    config = gateway_config(settings, dsn)
    client = await connect_temporal(settings)
    async with EgressGuard(settings.limits) as egress, await create_pool(dsn, max_size=1) as pool:
        create_app(config, pool, client, egress=egress)  # reads the key files, the UI directory
    return dsn


async def serve(settings: Settings, host: str, port: int, reuse_port: bool, pool_size: int) -> None:
    """One gateway process on (host, port) until uvicorn is told to stop."""
    sock = listening_socket(host, port, reuse_port=reuse_port)
    dsn = resolve_dsn(settings)
    config = gateway_config(settings, dsn)
    client = await connect_temporal(settings)
    async with (
        EgressGuard(settings.limits) as egress,
        await create_pool(dsn, max_size=pool_size) as pool,
    ):
        tracer = trace.get_tracer(TRACER) if settings.tracing else None
        app = create_app(config, pool, client, egress=egress, tracer=tracer)
        server = _Server(
            uvicorn.Config(
                app,
                lifespan="on",
                ws_max_size=config.limits.socket_max_frame_bytes,
                ws_ping_interval=None,  # engine.io pings
                # Compression would keep zlib state per connection (about 40 KB idle) and
                # compress every fanned-out copy separately.
                ws_per_message_deflate=False,
                log_config=_log_config(settings),
                # X-Forwarded-For/-Proto are believed from these peers only (the proxy).
                proxy_headers=True,
                forwarded_allow_ips=settings.forwarded_allow_ips,
                log_level=settings.log_level.lower(),
            ),
            app.drain,
            config.drain_seconds,
        )
        await server.serve(sockets=[sock])

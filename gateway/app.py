"""The gateway as one ASGI app: Socket.IO at /socket.io, the HTTP API, metrics, health, UI.

`create_app(config, pool, temporal)` wires the parts; its lifespan (driven by uvicorn) runs
the outbox tail, the lag monitor and, when configured, a sequencer.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from flowmaestro.broker import BrokeredFeed, open_link, publishing
from flowmaestro.events.outbox import Availability, OutboxReader, Sequencer, read_lag
from flowmaestro.gateway import http_errors, hub, presence, sockets
from flowmaestro.gateway.auth import TokenVerifier
from flowmaestro.gateway.bodies import bounded_receive, is_upload
from flowmaestro.gateway.budgets import SyncedRate, UserBudgets, UserLimits
from flowmaestro.gateway.clock import SystemClock
from flowmaestro.gateway.drain import spread
from flowmaestro.gateway.http_api import http_api
from flowmaestro.gateway.http_errors import error_json, install_error_handlers
from flowmaestro.gateway.hub import Hub
from flowmaestro.gateway.lease import GatewayLease
from flowmaestro.gateway.metrics import BrokerCollector, GatewayMetrics
from flowmaestro.gateway.presence import Presence
from flowmaestro.gateway.quotas import Quotas
from flowmaestro.gateway.sockets import SocketProtocol
from flowmaestro.gateway.transport import SEVERANCE, Severance, SocketServer
from flowmaestro.security import storable
from flowmaestro.security.log_budget import LogBudget

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg
    from opentelemetry.trace import Tracer
    from temporalio.client import Client

    from flowmaestro.broker import BrokerPublisher
    from flowmaestro.gateway.clock import Clock
    from flowmaestro.gateway.config import GatewayConfig
    from flowmaestro.security.egress import EgressGuard

log = logging.getLogger(__name__)

SOCKET_PATH = "/socket.io/"
ADMIN_PATHS = frozenset({"/metrics", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
_UNAUTHORIZED_ADMIN = error_json("unauthorized", "send the admin token as a Bearer token")
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})
_UNSTORABLE_TARGET = error_json(
    "bad_request", "the path or query holds a NUL character or text that is not UTF-8"
)
LAG_INTERVAL = 5.0
# The loggers whose records clients can cause (failed requests and messages, sockets that
# cannot keep up): each kind of record is logged at most `log_records_per_minute`.
CLIENT_LOGGERS = (http_errors.log, sockets.log, hub.log, presence.log)


class Gateway:
    """The ASGI callable: Socket.IO traffic to python-socketio, the rest to FastAPI."""

    def __init__(
        self,
        config: GatewayConfig,
        pool: asyncpg.Pool,
        temporal: Client,
        clock: Clock | None = None,
        egress: EgressGuard | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self.config = config
        clock = clock or SystemClock()
        self.metrics = GatewayMetrics(config.metrics_dir)
        limits = config.limits
        self.reader = OutboxReader(pool)
        self.sio = SocketServer(
            async_mode="asgi",
            transports=["websocket"],  # no sticky sessions needed behind a proxy
            max_http_buffer_size=limits.socket_max_frame_bytes,
            ping_interval=config.ping_interval,
            ping_timeout=config.ping_timeout,
            max_message_bytes=limits.socket_max_message_bytes,
            rate=limits.socket_messages_per_second,
            burst=limits.socket_message_burst,
            low_water=limits.socket_max_queue // 4,
        )
        self.broker: BrokeredFeed | None = None
        """With a broker configured: the hub's batches come through it."""
        if config.broker_url is not None:
            link = open_link(config.broker_url, config.broker_channel)
            self.broker = BrokeredFeed(self.reader, link)
        self.lease = GatewayLease(pool, config.presence_ttl)
        self.budgets = UserBudgets(pool, self.lease)
        user_limits = UserLimits.of(limits)
        self.messages = SyncedRate(pool, user_limits.messages)
        self.hub = Hub(
            self.sio,
            self.broker or self.reader,
            config,
            self.metrics,
            self.budgets,
            user_limits,
            tracer,
        )
        self.postgres = self.hub.postgres
        self.temporal = Availability("temporal")
        self.dependencies = [self.postgres, self.temporal]
        """What this gateway relies on, in `flowmaestro_dependency_up` and its outages."""
        if self.broker is not None:
            self.dependencies.append(self.broker.state)
            self.metrics.register_live(BrokerCollector(self.broker))
        verifier = TokenVerifier(config, clock, egress)
        quotas = Quotas(pool, limits, temporal, self.budgets, user_limits.writes, clock.time)
        self.presence = Presence(
            pool,
            self.sio,
            heartbeat=config.presence_heartbeat,
            lease=self.lease,
            postgres=self.postgres,
            link=(
                None
                if config.broker_url is None
                else open_link(config.broker_url, f"{config.broker_channel}.presence")
            ),
        )
        SocketProtocol(
            self.sio,
            self.hub,
            verifier,
            pool,
            temporal,
            self.metrics,
            config.input_timeout,
            quotas,
            refresh_warning=limits.token_refresh_warning_seconds,
            close_timeout=config.slow_timeout,
            presence=self.presence,
            clock=clock,
            budgets=self.budgets,
            user_limits=user_limits,
            messages=self.messages,
        )
        self._pool = pool
        self._temporal = temporal
        self.http = FastAPI(
            title="FlowMaestro gateway",
            description="Executions, events, SSE and user input (Socket.IO at /socket.io).",
            lifespan=self._lifespan,
        )
        install_error_handlers(self.http)
        http_api(
            self.http,
            config,
            self.hub,
            self.reader,
            verifier,
            pool,
            temporal,
            quotas,
            clock,
            self.budgets,
            user_limits,
        )
        self._health_routes()
        if config.static_dir is not None and (config.static_dir / "index.html").is_file():
            self.http.mount("/", StaticFiles(directory=config.static_dir, html=True), name="ui")
        else:
            self.http.get("/", include_in_schema=False)(_no_ui)
        self._tail: asyncio.Task[None] | None = None
        self.log_budget = LogBudget(limits.log_records_per_minute)
        self.draining = False
        self._too_large = error_json(
            "too_large",
            f"request bodies are limited to {limits.http_max_body_bytes} bytes",
            {"limit": "http_max_body_bytes", "maximum": limits.http_max_body_bytes},
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and (scope["path"] + "/").startswith(SOCKET_PATH):
            if scope["type"] == "websocket":
                severance = Severance()
                scope[SEVERANCE] = severance
                receive, send = severance.wrap(receive, send)
                receive = self.sio.budget(scope).counting(receive, severance)
            await self.sio.handle_request(scope, receive, send)
        elif scope["type"] == "http" and not self._admitted(scope):
            await _UNAUTHORIZED_ADMIN(scope, receive, send)
        elif scope["type"] == "http" and not _storable_target(scope):
            await _UNSTORABLE_TARGET(scope, receive, send)
        elif scope["type"] == "http" and scope["method"] in _WITH_BODY and not is_upload(scope):
            bounded = await bounded_receive(receive, scope, self.config.limits.http_max_body_bytes)
            if bounded is None:
                await self._too_large(scope, receive, send)
            else:
                await self.http(scope, bounded, send)
        else:
            await self.http(scope, receive, send)

    def _admitted(self, scope: dict[str, Any]) -> bool:
        """With an admin token configured, /metrics and the API docs need it as a Bearer."""
        if self.config.admin_token is None or scope["path"] not in ADMIN_PATHS:
            return True
        expected = f"Bearer {self.config.admin_token}".encode()
        given = dict(scope["headers"]).get(b"authorization", b"")
        return hmac.compare_digest(given, expected)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        # The process that numbers a batch publishes it: a publisher only beside a sequencer.
        url = self.config.broker_url if self.config.sequencer_dsn is not None else None
        async with publishing(url, self.config.broker_channel) as sink, self._running(sink):
            yield

    @contextlib.asynccontextmanager
    async def _running(self, sink: BrokerPublisher | None) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[None]] = []
        sequencer = None
        if self.config.sequencer_dsn is not None:
            sequencer = Sequencer(self.config.sequencer_dsn, sink=sink)
            tasks.append(asyncio.create_task(sequencer.run()))
        if self.broker is not None:
            tasks.append(asyncio.create_task(self.broker.run()))
        # Budgets are held under the lease: it exists before the first socket is admitted.
        await self.lease.renew()
        self._tail = asyncio.create_task(self.hub.run())
        tasks += [
            asyncio.create_task(self.budgets.run()),
            asyncio.create_task(self.messages.run()),
            self._tail,
            asyncio.create_task(self._watch_lag()),
            asyncio.create_task(self.presence.run()),
        ]
        running = asyncio.create_task(self.hub.running.wait())
        await asyncio.wait({running, self._tail}, return_when=asyncio.FIRST_COMPLETED)
        if self._tail.done():
            running.cancel()
            self._tail.result()  # the tail could not start: fail startup with its error
        try:
            with self.log_budget.attached(*CLIENT_LOGGERS):
                yield
        finally:
            if sequencer is not None:
                sequencer.stop()
            await self.sio.shutdown()
            await _cancelled(tasks)

    async def drain(self) -> None:
        """Hand every socket to the other gateways, spread over `drain_seconds` (a SIGTERM
        in `flowmaestro gateway`): /readyz says draining, and each socket is disconnected at
        its own moment, so its client reconnects through the proxy to another gateway and
        resumes by position, and the clients do not all come back at once."""
        self.draining = True
        await spread(list(self.hub.connections), self.sio.disconnect, self.config.drain_seconds)

    async def _watch_lag(self) -> None:
        """The outbox's lag and the dependencies' state, every few seconds (an outage is
        logged once when it starts and once when it ends, and shows in the metrics)."""
        while True:
            await self.postgres.probe(self._read_lag)
            await self.temporal.probe(self._temporal.service_client.check_health)
            self.metrics.dependencies.record(*self.dependencies)
            await asyncio.sleep(LAG_INTERVAL)

    async def _read_lag(self) -> None:
        head = await self.reader.head()
        lag = await read_lag(self._pool)
        self.metrics.tail_lag.set(max(0, head - self.hub.position))
        self.metrics.unsequenced_age.set(lag.oldest_unsequenced_seconds)
        self.metrics.outbox_stalled.set(1 if lag.stalled else 0)
        self.metrics.oldest_event.set(lag.oldest_event_seconds)

    def _health_routes(self) -> None:
        @self.http.get("/healthz")
        async def healthz() -> dict[str, str]:
            """The process is up."""
            return {"status": "ok"}

        @self.http.get("/readyz")
        async def readyz() -> Response:
            """Ready to take clients: Postgres answers and the outbox tail runs (503 with the
            reasons otherwise, and while draining). Temporal away only degrades the gateway
            (200, `status: degraded`): every event still flows from Postgres; starts and
            answers fail until it is back. With a broker, `fanout` says where batches come
            from now, and a reason says why not the broker (the gateway stays ready)."""
            checks = {
                "postgres": await self.postgres.probe(lambda: self._pool.fetchval("SELECT 1")),
                "temporal": await self.temporal.probe(self._temporal.service_client.check_health),
                "tail": self._tail is not None
                and not self._tail.done()
                and self.hub.running.is_set(),
            }
            reasons = {
                name: reason
                for name, reason in (
                    ("postgres", self.postgres.reason),
                    ("temporal", self.temporal.reason),
                    ("tail", None if checks["tail"] else "the outbox tail is reconnecting"),
                )
                if reason is not None and not checks[name]
            }
            if self.draining:
                status = "draining"
            elif not (checks["postgres"] and checks["tail"]):
                status = "unavailable"
            else:
                status = "degraded" if not checks["temporal"] else "ready"
            body: dict[str, Any] = {"status": status, "checks": checks}
            if self.broker is not None:
                # Not a check: without the broker the gateway tails Postgres and serves on (a
                # broker blip must not take every gateway out of the load balancer at once).
                body["fanout"] = "broker" if self.broker.via_broker else "postgres"
                if not self.broker.state.up:
                    reasons["broker"] = f"{self.broker.state.reason}; tailing Postgres meanwhile"
            if reasons:
                body["reasons"] = reasons
            ready = status in ("ready", "degraded")
            return JSONResponse(body, status_code=200 if ready else 503)

        @self.http.get("/metrics")
        async def metrics() -> Response:
            """Prometheus exposition."""
            self.metrics.dependencies.record(*self.dependencies)
            return Response(self.metrics.exposition(), media_type="text/plain; version=0.0.4")


_NO_UI = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FlowMaestro: the UI is not built</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;
color:#172033;line-height:1.5}code,pre{background:#f3f5f9;border-radius:4px;padding:.1rem .3rem}
pre{padding:.7rem}</style></head><body>
<h1>FlowMaestro is running, but its UI is not built</h1>
<p>The gateway serves the API (<a href="/docs">/docs</a>), Socket.IO and server-sent events;
the web UI needs Node.js 20.19 or later to build. In a checkout:</p>
<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>and restart the gateway. <code>pip install</code> builds it by itself when <code>npm</code>
is on the PATH, and <code>FLOWMAESTRO_WEB_DIST</code> points the gateway at a built copy.</p>
</body></html>
"""


async def _no_ui() -> HTMLResponse:
    """Without a built UI, `/` says how to build one."""
    return HTMLResponse(_NO_UI)


def _storable_target(scope: dict[str, Any]) -> bool:
    """The path and query hold only text Postgres can store (ids, names, filters reach it)."""
    try:
        query = unquote_plus(scope.get("query_string", b"").decode("latin-1"), errors="strict")
    except UnicodeDecodeError:
        return False
    return storable(scope["path"]) and storable(query)


async def _cancelled(tasks: list[asyncio.Task[None]], grace: float = 10.0) -> None:
    """Cancel `tasks` until every one has ended, again each `grace` seconds (room for their
    cleanup). Once is not enough on Python 3.11: a cancel that meets a `wait_for` (a probe's)
    just as its inner call completes is swallowed and the task runs on; a shutdown hung so."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=grace)


def create_app(
    config: GatewayConfig,
    pool: asyncpg.Pool,
    temporal: Client,
    clock: Clock | None = None,
    egress: EgressGuard | None = None,
    tracer: Tracer | None = None,
) -> Gateway:
    """The gateway ASGI app; run it with uvicorn (its lifespan starts the outbox tail). Token
    expiry runs on `clock` (the machine's by default); `egress` fetches a configured JWKS
    URL; with `tracer`, events written under a span are fanned out in their trace."""
    return Gateway(config, pool, temporal, clock, egress, tracer)

"""`flowmaestro gateway --host --port`: the Socket.IO gateway and HTTP API under uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import uvicorn

from flowmaestro.database import create_pool, resolve_dsn
from flowmaestro.errors import FlowMaestroError
from flowmaestro.runtime import run_async, settings_of
from flowmaestro.temporal import connect_temporal
from flowmaestro.webui import ui_dir
from gateway import GatewayConfig, create_app, uvicorn_log_config

if TYPE_CHECKING:
    from flowmaestro.settings import Settings

_ROOT = Path(__file__).resolve().parents[2]


def gateway_config(settings: Settings, dsn: str) -> GatewayConfig:
    """The gateway's configuration from the settings (the sequencer on `dsn` if enabled)."""
    if settings.jwt_secret is None and settings.jwt_public_key is None:
        raise FlowMaestroError(
            "no JWT key configured",
            hint="set FLOWMAESTRO_JWT_SECRET (or FLOWMAESTRO_JWT_PUBLIC_KEY), or use `flowmaestro dev`",
        )
    return GatewayConfig(
        jwt_secret=settings.jwt_secret.get_secret_value() if settings.jwt_secret else None,
        jwt_public_key=settings.jwt_public_key,
        jwt_audience=settings.jwt_audience,
        jwt_issuer=settings.jwt_issuer,
        task_queue=settings.task_queue,
        flows_dir=settings.flows_dir or _ROOT / "examples",
        static_dir=ui_dir(settings),
        sequencer_dsn=dsn if settings.run_sequencer else None,
        admin_token=settings.admin_token.get_secret_value() if settings.admin_token else None,
        limits=settings.limits,
        presence_heartbeat=settings.presence_heartbeat_seconds,
        presence_ttl=settings.presence_ttl_seconds,
    )


@click.command("gateway")
@click.option("--host", default=None, help="bind address [FLOWMAESTRO_GATEWAY_HOST]")
@click.option("--port", type=int, default=None, help="port [FLOWMAESTRO_GATEWAY_PORT]")
@click.pass_context
def gateway_command(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Serve Socket.IO (/socket.io), the HTTP API (/api, /docs), /metrics and the UI."""
    settings = settings_of(ctx)

    async def main() -> None:
        dsn = resolve_dsn(settings)
        config = gateway_config(settings, dsn)
        client = await connect_temporal(settings)
        async with await create_pool(dsn, max_size=20) as pool:
            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(config, pool, client),
                    host=host or settings.gateway_host,
                    port=port if port is not None else settings.gateway_port,
                    lifespan="on",
                    ws_max_size=config.limits.socket_max_frame_bytes,
                    ws_ping_interval=None,  # engine.io pings
                    # Compression would keep zlib state per connection (about 40 KB idle) and
                    # compress every fanned-out copy separately.
                    ws_per_message_deflate=False,
                    log_config=uvicorn_log_config(),
                    log_level=settings.log_level.lower(),
                )
            )
            await server.serve()

    run_async(main())

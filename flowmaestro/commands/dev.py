"""`flowmaestro dev`: the whole system on one machine, on embedded defaults."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from flowmaestro.dev.console import Console
from flowmaestro.dev.lock import point_elsewhere
from flowmaestro.dev.supervisor import DevOptions, Supervisor
from flowmaestro.runtime import run_async, settings_of


@click.command("dev")
@click.option(
    "--host",
    help="the gateway's bind address (Temporal always binds 127.0.0.1)  "
    "[default: FLOWMAESTRO_GATEWAY_HOST]",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    help="gateway and UI  [default: FLOWMAESTRO_GATEWAY_PORT]",
)
@click.option("--temporal-port", type=click.IntRange(1, 65535), default=7233, show_default=True)
@click.option(
    "--temporal-ui-port",
    type=click.IntRange(0, 65535),
    default=8233,
    show_default=True,
    help="the Temporal web UI; 0 runs Temporal without it",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="embedded Postgres, Temporal state, secret  [default: FLOWMAESTRO_STATE_DIR]",
)
@click.option("--user", "user_id", default="dev", show_default=True, help="the token's user")
@click.option("--demo/--no-demo", default=True, show_default=True, help="start the demo flow")
@click.option(
    "--ready-timeout", type=click.FloatRange(1), default=120, show_default=True, help="seconds"
)
@click.pass_context
def dev_command(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    temporal_port: int,
    temporal_ui_port: int,
    data_dir: Path | None,
    user_id: str,
    demo: bool,
    ready_timeout: float,
) -> None:
    """Run Postgres, Temporal, migrations, a worker and a gateway until Ctrl-C.

    Postgres is embedded unless FLOWMAESTRO_DATABASE_URL is set; the Temporal dev server is
    started unless FLOWMAESTRO_TEMPORAL_ADDRESS is set. Prints the UI address, a development
    token and the Temporal UI, then starts a demo execution. Ctrl-C stops every part.
    One `dev` runs per data dir: a second one says so and exits with status 5.
    """
    settings = settings_of(ctx)
    # Readiness checks ask the gateway many times; each request is not news.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if data_dir is not None and data_dir.resolve() != settings.state_dir:
        # `watch` reads the default state dir: leave it a pointer to this one.
        point_elsewhere(settings.state_dir, data_dir.resolve())
        settings = settings.model_copy(update={"state_dir": data_dir.resolve()})
    options = DevOptions(
        host=host or settings.gateway_host,
        port=port or settings.gateway_port,
        temporal_port=temporal_port,
        temporal_ui_port=temporal_ui_port or None,
        user_id=user_id,
        demo=demo,
        ready_timeout=ready_timeout,
    )
    ctx.exit(run_async(Supervisor(settings, options, Console()).run()))

"""`flowmaestro watch EXECUTION_ID`: follow an execution live, on `flowmaestro.client`."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console

from flowmaestro.client import Client
from flowmaestro.dev.lock import find_running
from flowmaestro.runtime import run_async, settings_of
from flowmaestro.watch.terminal import TerminalView
from flowmaestro.watch.tokens import token_source

# Distinct from errors, so a script can tell "the flow failed" from "watching failed".
EXECUTION_FAILED = 6


@click.command("watch")
@click.argument("execution_id")
@click.option(
    "--url",
    help="the gateway  [default: the running `flowmaestro dev`, else "
    "http://FLOWMAESTRO_GATEWAY_HOST:FLOWMAESTRO_GATEWAY_PORT]",
)
@click.option(
    "--token",
    envvar="FLOWMAESTRO_TOKEN",
    help="a JWT of the execution's owner  [env FLOWMAESTRO_TOKEN; default: the running "
    "`flowmaestro dev`'s]",
)
@click.option("--json", "as_json", is_flag=True, help="print each event as one JSON line")
@click.option(
    "--interactive/--no-interactive",
    default=None,
    help="answer prompts from the terminal  [default: when stdin is a terminal, without --json]",
)
@click.pass_context
def watch_command(
    ctx: click.Context,
    execution_id: str,
    url: str | None,
    token: str | None,
    as_json: bool,
    interactive: bool | None,
) -> None:
    """Follow EXECUTION_ID from its first event to its end, resuming after a dropped connection.

    Exits 0 when the execution completed and 6 when it failed (1 for other errors, 4 when
    the gateway cannot be reached).
    """
    settings = settings_of(ctx)
    running = find_running(settings.state_dir) or {}
    url = url or running.get("ui") or f"http://{settings.gateway_host}:{settings.gateway_port}"
    token = token or running.get("token")
    if not token:
        raise click.UsageError(
            "no token: pass --token or set FLOWMAESTRO_TOKEN (`flowmaestro token --user U` "
            "mints one), or run `flowmaestro dev`, whose token is used"
        )
    source = token_source(settings, running, token)
    if interactive is None:
        interactive = not as_json and sys.stdin.isatty()
    console = Console(stderr=as_json)

    async def main() -> str:
        def status(message: str) -> None:
            console.print(message, style="yellow", markup=False, highlight=False)

        async with Client(url, source, on_status=status) as client:
            if not as_json:
                return await TerminalView(client, execution_id, console, interactive).run()
            final = ""
            async for envelope in client.envelopes(execution_id, after=0):
                click.echo(json.dumps(envelope, separators=(",", ":")))
                final = envelope["type"]
            return "failed" if final == "execution:failed" else "completed"

    if run_async(main()) == "failed":
        ctx.exit(EXECUTION_FAILED)

"""`flowmaestro run FLOW --user U --input k=v`: start one execution and print its id."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
from pydantic import JsonValue

from flowmaestro.database import create_pool, resolve_dsn
from flowmaestro.dev.postgres import stop_embedded_postgres
from flowmaestro.errors import FlowMaestroError, NotMigratedError
from flowmaestro.flows.errors import FlowsError
from flowmaestro.flows.flow import Flow, load_flow
from flowmaestro.flows.start import start_execution
from flowmaestro.migrate import require_migrated
from flowmaestro.runtime import run_async, settings_of
from flowmaestro.temporal_connection import connect_temporal


def parse_inputs(flow: Flow, pairs: tuple[str, ...]) -> dict[str, JsonValue]:
    """`k=v` pairs; a value is JSON when it parses as JSON, unless the input is a string."""
    inputs: dict[str, JsonValue] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not k=v", param_hint="--input")
        spec = flow.inputs.get(name)
        if spec is not None and spec.type == "string":
            inputs[name] = raw
            continue
        try:
            inputs[name] = json.loads(raw)
        except ValueError:
            inputs[name] = raw
    return inputs


@click.command("run")
@click.argument("flow_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "user_id", required=True, help="the execution's owner (user id)")
@click.option("--input", "pairs", multiple=True, metavar="K=V", help="an input value (repeat)")
@click.pass_context
def run_command(ctx: click.Context, flow_file: Path, user_id: str, pairs: tuple[str, ...]) -> None:
    """Start FLOW_FILE (YAML or JSON) and print the execution id."""
    settings = settings_of(ctx)

    async def main() -> str:
        try:
            flow = load_flow(flow_file, settings.limits)
            inputs = parse_inputs(flow, pairs)
            flow.resolve_inputs(inputs)
        except FlowsError as exc:
            raise FlowMaestroError(f"{flow_file}: {exc}") from exc
        pool = await create_pool(resolve_dsn(settings), max_size=1)
        try:
            async with pool:
                await require_migrated(pool)
                client = await connect_temporal(settings)
                return await start_execution(
                    client, flow, user_id, inputs, pool=pool, task_queue=settings.task_queue
                )
        except NotMigratedError:
            # Nothing can use an unmigrated embedded server: stop the one started above.
            if not settings.database_url:
                await asyncio.to_thread(stop_embedded_postgres, settings.embedded_pgdata)
            raise

    click.echo(run_async(main()))

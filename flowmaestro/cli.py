"""The `flowmaestro` command line: one group, one module per command."""

from __future__ import annotations

import contextlib
import logging
import os
import sys

import click
from pydantic import ValidationError

from flowmaestro.commands.dev import dev_command
from flowmaestro.commands.gateway import gateway_command
from flowmaestro.commands.kb import kb_command
from flowmaestro.commands.migrate import migrate_command
from flowmaestro.commands.prune import prune_command
from flowmaestro.commands.run import run_command
from flowmaestro.commands.schema import schema_command
from flowmaestro.commands.status import status_command
from flowmaestro.commands.token import token_command
from flowmaestro.commands.watch import watch_command
from flowmaestro.commands.worker import worker_command
from flowmaestro.logs import configure_logging
from flowmaestro.settings import Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """FlowMaestro realtime: Temporal flows, a Postgres outbox, a Socket.IO gateway.

    Configuration comes from FLOWMAESTRO_* environment variables (see the README).

    Exit codes: 0 success, 1 error, 2 usage, 3 migration refused, 4 Postgres, Temporal or
    the gateway unreachable, 5 `dev` already running, 6 the watched execution failed.
    """
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"FLOWMAESTRO_{'_'.join(map(str, error['loc'])).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        raise click.ClickException(f"invalid configuration: {problems}") from None
    configure_logging(settings.log_level, settings.log_format)
    ctx.obj = settings


main.add_command(dev_command)
main.add_command(migrate_command)
main.add_command(schema_command)
main.add_command(status_command)
main.add_command(run_command)
main.add_command(worker_command)
main.add_command(watch_command)
main.add_command(prune_command)
main.add_command(kb_command)
main.add_command(gateway_command)
main.add_command(token_command)


def run() -> None:
    """The console entry point: `main`, then exit without finalizing the interpreter.

    temporalio's Rust bridge may still run threads that touch the GIL while Python finalizes,
    which aborts a short-lived client process at exit (SIGABRT after the command succeeded:
    temporalio/sdk-python#300). Every resource is closed by then (commands own their lifetimes
    with `async with`), so only the output is flushed."""
    try:
        main(prog_name="flowmaestro")
        code = 0
    except SystemExit as exc:
        if isinstance(exc.code, int) or exc.code is None:
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    logging.shutdown()
    with contextlib.suppress(OSError):  # a reader that went away (`| head`)
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)

"""`flowmaestro dev`: bring the system up on embedded defaults."""

from __future__ import annotations

import click

from flowmaestro.commands.migrate import migrate_command
from flowmaestro.commands.status import status_command


@click.command("dev")
@click.pass_context
def dev_command(ctx: click.Context) -> None:
    """Start the embedded Postgres, apply migrations and report status."""
    ctx.invoke(migrate_command)
    ctx.invoke(status_command)

"""`flowmaestro migrate`: apply pending SQL migrations."""

from __future__ import annotations

import click

from flowmaestro.database import create_pool, resolve_dsn
from flowmaestro.migrate import migrate
from flowmaestro.runtime import run_async, settings_of


@click.command("migrate")
@click.pass_context
def migrate_command(ctx: click.Context) -> None:
    """Apply pending migrations (safe to run concurrently; refuses edited applied files)."""
    settings = settings_of(ctx)

    async def main() -> list[str]:
        pool = await create_pool(resolve_dsn(settings), max_size=2)
        async with pool, pool.acquire() as con, pool.acquire() as watch:
            return await migrate(con, watch=watch)

    applied = run_async(main())
    click.echo(
        f"applied {len(applied)} migration(s): {', '.join(applied)}"
        if applied
        else "database is up to date"
    )

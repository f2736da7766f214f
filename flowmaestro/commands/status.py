"""`flowmaestro status`: where the database is and what the outbox looks like."""

from __future__ import annotations

import click

from flowmaestro.database import create_pool, resolve_dsn
from flowmaestro.events.outbox import read_lag
from flowmaestro.migrate import bundled_migrations
from flowmaestro.runtime import run_async, settings_of


@click.command("status")
@click.pass_context
def status_command(ctx: click.Context) -> None:
    """Report the database, applied migrations and outbox lag."""
    settings = settings_of(ctx)

    async def main() -> None:
        dsn = resolve_dsn(settings)
        pool = await create_pool(dsn, max_size=1)
        async with pool:
            version = await pool.fetchval("SHOW server_version")
            applied = await pool.fetchval(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_name = 'schema_migrations'"
            ) and await pool.fetchval("SELECT count(*) FROM schema_migrations")
            total = len(bundled_migrations())
            click.echo(
                f"postgres: {version} ({'embedded' if not settings.database_url else 'configured'})"
            )
            click.echo(f"migrations: {applied or 0}/{total} applied")
            if applied:
                lag = await read_lag(pool)
                head = await pool.fetchval("SELECT last_position FROM outbox_sequencer")
                click.echo(
                    f"outbox: head position {head}, {lag.unsequenced} unsequenced, "
                    f"oldest {lag.oldest_unsequenced_seconds:.3f}s, "
                    f"stalled={'yes' if lag.stalled else 'no'}"
                )

    run_async(main())

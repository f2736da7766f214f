"""`flowmaestro prune --older-than 7d`: outbox retention."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click

from flowmaestro.database import create_pool, resolve_dsn
from flowmaestro.events.outbox import prune_before
from flowmaestro.runtime import run_async, settings_of

_AGE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class Age(click.ParamType[timedelta]):
    """`90s`, `30m`, `12h`, `7d`."""

    name = "age"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        match = _AGE.match(str(value).strip())
        if match is None:
            self.fail(f"{value!r} is not an age like 90s, 30m, 12h or 7d", param, ctx)
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@click.command("prune")
@click.option(
    "--older-than",
    "age",
    type=Age(),
    required=True,
    help="delete events sequenced longer ago than this (90s, 30m, 12h, 7d)",
)
@click.pass_context
def prune_command(ctx: click.Context, age: timedelta) -> None:
    """Delete old events from the outbox.

    A client resuming from before the pruned horizon is told `recovered: false` and reloads
    the execution's state over HTTP, so pruning never shows anyone a silent gap.
    """
    settings = settings_of(ctx)

    async def main() -> tuple[int, int]:
        async with (
            await create_pool(resolve_dsn(settings), max_size=1) as pool,
            pool.acquire() as con,
        ):
            return await prune_before(con, datetime.now(UTC) - age)

    deleted, horizon = run_async(main())
    click.echo(f"deleted {deleted} event(s); history is kept after position {horizon}")

"""Shared benchmark fixtures: a fresh migrated database, dropped afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from typing import TYPE_CHECKING

import asyncpg

from flowmaestro.database import create_migrated_database, resolve_dsn
from flowmaestro.settings import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def bench_database() -> AsyncIterator[str]:
    """A new database on the configured (or embedded) server with migrations applied."""
    server = resolve_dsn(Settings())
    name = f"fm_bench_{uuid.uuid4().hex[:12]}"
    try:
        yield await create_migrated_database(server, name)
    finally:
        admin = await asyncpg.connect(server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@contextlib.asynccontextmanager
async def sequencer_process(
    dsn: str, *, previous: bool = False, broker: tuple[str, str] | None = None
) -> AsyncIterator[None]:
    """A sequencer in its own process, as in production (the worker or the gateway runs it).
    `previous`: with the previous release's wake-ups (never awake, no rows in its NOTIFY).
    `broker`: (URL, channel) it publishes each batch to."""
    code = (
        "import asyncio, sys\n"
        "from flowmaestro.broker import publishing\n"
        "from flowmaestro.events.outbox import Sequencer\n"
        "knobs = {'payload_bytes': 0, 'awake_at': 0} if sys.argv[2] == 'previous' else {}\n"
        "async def main():\n"
        "    async with publishing(*(sys.argv[3:5] or (None, ''))) as sink:\n"
        "        await Sequencer(sys.argv[1], sink=sink, **knobs).run()\n"
        "asyncio.run(main())\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, dsn, "previous" if previous else "now", *(broker or ())
    )
    try:
        con = await asyncpg.connect(dsn)
        try:
            # Leadership shows as the advisory lock being held.
            for _ in range(500):
                if await con.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                ):
                    break
                await asyncio.sleep(0.02)
            else:
                raise RuntimeError("the sequencer process never took the lock")
        finally:
            await con.close()
        yield
    finally:
        proc.terminate()
        await proc.wait()

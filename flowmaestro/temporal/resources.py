"""What the plugin's emissions need at run time: one Postgres pool per process, opened while
any worker (or replayer) built with the plugin runs, and closed after the last one."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from flowmaestro.activities.write_retry import RetryingEmitter, WriteRetry
from flowmaestro.database import create_pool, resolve_dsn
from flowmaestro.events.outbox import PostgresEmitter
from flowmaestro.temporal.errors import PluginError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import asyncpg

    from flowmaestro.events.outbox import Emitter
    from flowmaestro.settings import Settings


class Resources:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.writes = WriteRetry(
            deadline=settings.write_deadline_seconds,
            max_interval=settings.write_retry_max_interval_seconds,
        )
        self._pool: asyncpg.Pool | None = None
        self._emitter: Emitter | None = None
        self._users = 0
        self._lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Hold the pool open for the block; nested and concurrent blocks share it."""
        async with self._lock:
            if self._users == 0:
                dsn = await asyncio.to_thread(resolve_dsn, self._settings)
                self._pool = await create_pool(dsn, max_size=10)
                self._emitter = RetryingEmitter(PostgresEmitter(self._pool), self.writes)
            self._users += 1
        try:
            yield
        finally:
            async with self._lock:
                self._users -= 1
                if self._users == 0 and self._pool is not None:
                    pool, self._pool, self._emitter = self._pool, None, None
                    await pool.close()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise PluginError("FlowMaestroPlugin's worker is not running")
        return self._pool

    def emitter(self) -> Emitter:
        if self._emitter is None:
            raise PluginError("FlowMaestroPlugin's worker is not running")
        return self._emitter

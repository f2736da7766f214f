"""Each test's own database, cloned from the migrated template ahead of the tests that take
one and dropped behind them: a clone and a drop (about a second each on a loaded machine)
run while earlier tests wait on something, not on a test's own path."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING, Any

import asyncpg

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Coroutine


class Databases:
    """`take()` a fresh clone of `template`, `drop(name)` it when done; `close()` at the end
    waits for the work under way and drops the clones nobody took."""

    def __init__(self, admin: asyncpg.Pool, template: str, ahead: int = 2) -> None:
        self._admin = admin
        self._template = template
        self._ahead = ahead
        self._ready: asyncio.Queue[str | BaseException] = asyncio.Queue()
        self._making = 0
        self._work: set[asyncio.Task[None]] = set()

    async def take(self) -> str:
        self._fill()
        made = await self._ready.get()
        self._fill()
        if isinstance(made, BaseException):
            raise made
        return made

    def drop(self, name: str) -> None:
        self._spawn(self._drop(name))

    async def close(self) -> None:
        while self._work:
            await asyncio.gather(*self._work, return_exceptions=True)
        while not self._ready.empty():
            made = self._ready.get_nowait()
            if isinstance(made, str):
                await self._drop(made)

    def _fill(self) -> None:
        while self._making + self._ready.qsize() < self._ahead:
            self._making += 1
            self._spawn(self._make())

    async def _make(self) -> None:
        name = f"fm_test_{uuid.uuid4().hex[:12]}"
        made: str | BaseException = name
        try:
            await self._admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        except Exception as exc:  # the test that takes it fails with this
            made = exc
        finally:
            self._making -= 1
        await self._ready.put(made)

    async def _drop(self, name: str) -> None:
        await self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._work.add(task)
        task.add_done_callback(self._work.discard)


@contextlib.asynccontextmanager
async def cloned(server_dsn: str, template: str) -> AsyncIterator[Databases]:
    """Clones of `template` on the server of `server_dsn`, for as long as the block runs."""
    async with asyncpg.create_pool(server_dsn, min_size=1, max_size=3) as admin:
        made = Databases(admin, template)
        try:
            yield made
        finally:
            await made.close()

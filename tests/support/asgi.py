"""An ASGI app in the test's own process: its lifespan run as a server runs it, its HTTP
reached through httpx's ASGI transport (no server, no socket). httpx buffers each response
whole, so streams (SSE) and WebSockets still need a real server."""

from __future__ import annotations

import asyncio
import contextlib
import io
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    Message = dict[str, Any]
    App = Callable[[Any, Any, Any], Awaitable[None]]
    """An ASGI app: (scope, receive, send)."""


@contextlib.asynccontextmanager
async def lifespan(app: App, timeout: float = 30) -> AsyncIterator[None]:
    """`app`'s startup before the block, its shutdown after, through the ASGI lifespan
    protocol; a failed startup fails here with the app's message."""
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()
    scope: Message = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    running: asyncio.Future[None] = asyncio.ensure_future(app(scope, to_app.get, from_app.put))

    async def answer(to: str) -> None:
        await to_app.put({"type": f"lifespan.{to}"})
        replied = asyncio.ensure_future(from_app.get())
        waited: set[asyncio.Future[Any]] = {replied, running}
        done, _ = await asyncio.wait(waited, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if replied not in done:
            replied.cancel()
            if running in done:
                running.result()  # the app's own error
            raise TimeoutError(f"no answer to lifespan.{to} in {timeout} s:\n{_stacks()}")
        message = replied.result()
        assert message["type"] == f"lifespan.{to}.complete", message

    try:
        await answer("startup")
        yield
        await answer("shutdown")
    finally:
        if not running.done():
            running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


def _stacks() -> str:
    """Where every task of the loop waits (what a hung lifespan waits for)."""
    out = io.StringIO()
    for task in asyncio.all_tasks():
        task.print_stack(limit=8, file=out)
    return out.getvalue()


@contextlib.asynccontextmanager
async def asgi_client(app: App, **kwargs: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on `app` in process, its lifespan running meanwhile."""
    transport = httpx.ASGITransport(app)
    async with (
        lifespan(app),
        httpx.AsyncClient(transport=transport, base_url="http://gateway.test", **kwargs) as http,
    ):
        yield http

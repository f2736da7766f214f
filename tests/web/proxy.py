"""An HTTP proxy on a free port that forwards everything but can refuse WebSocket upgrades
(403), as corporate proxies do; it counts the upgrades it let through and the event
streams (`/api/stream`) open, so a test can await a client's change of transport."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

_REFUSAL = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_MAX_HEAD = 64 * 1024


class UpgradeBlockingProxy:
    def __init__(self, target_host: str, target_port: int, *, blocking: bool = True) -> None:
        self._target = (target_host, target_port)
        self.blocking = blocking
        self.refused = 0
        """WebSocket upgrades answered 403."""
        self.websockets = 0
        """WebSocket connections open through the proxy now."""
        self.streams = 0
        """`GET /api/stream` requests open now."""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aenter__(self) -> UpgradeBlockingProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def wait_until(
        self, done: Callable[[UpgradeBlockingProxy], bool], timeout: float
    ) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: done(self))

    async def _count(self, websockets: int = 0, streams: int = 0) -> None:
        async with self._changed:
            self.websockets += websockets
            self.streams += streams
            self._changed.notify_all()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Browsers open every WebSocket on a connection of its own, as its first request, so
        # the first request's head tells what the connection is for.
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > _MAX_HEAD:
            return
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else ""
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])
        }
        upgrade = headers.get("upgrade", "").lower() == "websocket"
        if upgrade and self.blocking:
            self.refused += 1
            writer.write(_REFUSAL)
            await writer.drain()
            return
        if not upgrade:
            # One request per connection, so every request's head passes this check.
            kept = [h for h in lines[1:] if h and not h.lower().startswith("connection:")]
            head = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1")
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        websockets, streams = (1, 0) if upgrade else (0, int(path.startswith("/api/stream")))
        await self._count(websockets, streams)
        try:
            up_writer.write(head)
            pipes = {
                asyncio.create_task(_pipe(reader, up_writer)),
                asyncio.create_task(_pipe(up_reader, writer)),
            }
            try:
                await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pipe in pipes:
                    pipe.cancel()
                await asyncio.gather(*pipes, return_exceptions=True)
        finally:
            up_writer.close()
            await self._count(-websockets, -streams)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()

"""A tiny real HTTP server on a local port that answers from a script, for node tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

_REASONS = {
    200: "OK",
    302: "Found",
    404: "Not Found",
    500: "Internal Server Error",
    503: "Unavailable",
}


@contextlib.asynccontextmanager
async def scripted_server(
    responses: list[tuple[int, bytes | dict[str, object]]],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    headers: dict[str, str] | None = None,
    heads: list[bytes] | None = None,
) -> AsyncIterator[tuple[str, list[str]]]:
    """Serve `responses` in order (the last one repeats), with extra `headers` (e.g. a
    redirect's Location); yield (url, request paths seen). `heads` collects each request's
    raw head (to check its Host header)."""
    seen: list[str] = []
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head.split(b" ", 2)[1].decode())
        if heads is not None:
            heads.append(head)
        status, body = responses[min(len(seen), len(responses)) - 1]
        payload = json.dumps(body).encode() if isinstance(body, dict) else body
        kind = "application/json" if isinstance(body, dict) else "text/plain"
        writer.write(
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\n"
            f"Content-Type: {kind}\r\nContent-Length: {len(payload)}\r\n{extra}"
            "Connection: close\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, host, port)
    bound = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://{host}:{bound}/data", seen

"""A small OpenAI-compatible chat completions server on a local port, answering from a script.

Each request gets the next scripted reply: an HTTP error status, or a stream of server-sent
`chat.completion.chunk` events (optionally cut off before it finishes). Request bodies are
recorded so tests can check what the provider sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence


@dataclass(frozen=True)
class Status:
    code: int
    body: str = '{"error": {"message": "slow down"}}'


@dataclass(frozen=True)
class Stream:
    text: list[str] = field(default_factory=list)
    tool_calls: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(id, name, argument fragments) per call."""
    cut_off: bool = False
    """End the connection after the text, without a finish_reason or [DONE]."""


Reply = Status | Stream


def _chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


def _events(reply: Stream) -> list[bytes]:
    events = [_chunk({"role": "assistant", "content": ""})]
    events += [_chunk({"content": t}) for t in reply.text]
    if reply.cut_off:
        return events
    for index, (call_id, name, fragments) in enumerate(reply.tool_calls):
        events.append(
            _chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call_id,
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }
                    ]
                }
            )
        )
        events += [
            _chunk({"tool_calls": [{"index": index, "function": {"arguments": f}}]})
            for f in fragments
        ]
    events.append(_chunk({}, "tool_calls" if reply.tool_calls else "stop"))
    events.append(b"data: [DONE]\n\n")
    return events


@contextlib.asynccontextmanager
async def openai_server(
    replies: Sequence[Reply],
) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """Yield (base URL, request bodies seen); replies are used in order."""
    bodies: list[dict[str, Any]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        length = next(
            int(line.split(":", 1)[1])
            for line in head.split("\r\n")
            if line.lower().startswith("content-length:")
        )
        bodies.append(json.loads(await reader.readexactly(length)))
        reply = replies[len(bodies) - 1]
        if isinstance(reply, Status):
            payload = reply.body.encode()
            writer.write(
                f"HTTP/1.1 {reply.code} Error\r\nContent-Type: application/json\r\n"
                f"Retry-After: 0\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
        else:
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Cache-Control: no-cache\r\nConnection: close\r\n\r\n"
            )
            for event in _events(reply):
                writer.write(event)
                await writer.drain()
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/v1", bodies

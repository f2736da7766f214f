"""Token coalescing: many tiny model chunks become few `agent:token` events.

The model's stream pushes chunks without waiting; a writer task flushes what is buffered at
most once every `flush_interval` seconds, or sooner once `max_chars` characters wait. Each
flushed token carries its `index` and `offset` (characters before it), so clients rebuild the
text by offset. When the database is slower than the stream, everything waiting goes out in
one write, split into tokens of at most `max_chars`. With `coalesce=False` every chunk is its
own token (still written in batches): the baseline the benchmark compares against.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from types import TracebackType


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    index: int
    offset: int


class TokenCoalescer:
    """Use as `async with`: leaving the block flushes the rest and surfaces write errors."""

    def __init__(
        self,
        write: Callable[[list[Token]], Awaitable[None]],
        *,
        flush_interval: float = 0.05,
        max_chars: int = 2048,
        coalesce: bool = True,
    ) -> None:
        if max_chars < 1 or flush_interval < 0:
            raise ValueError("max_chars must be positive and flush_interval not negative")
        self._write = write
        self._interval = flush_interval
        self._max_chars = max_chars
        self._coalesce = coalesce
        self._pending: list[str] = []
        self._pending_chars = 0
        self._next_index = 0
        self._next_offset = 0
        self._closing = False
        self._last_flush = -math.inf
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Even when the stream failed, what it produced goes out before the error propagates.
        await self._drain()

    async def flush(self) -> None:
        """Write everything pushed so far now (e.g. before a tool call's event), then go on."""
        await self._drain()
        self._closing = False
        self._task = asyncio.create_task(self._run())

    async def _drain(self) -> None:
        assert self._task is not None
        self._closing = True
        self._wake.set()
        await self._task

    def push(self, text: str) -> None:
        """Buffer `text`; never waits. Raises the writer's error if a write failed."""
        if self._task is None or self._closing:
            raise RuntimeError("push() outside the coalescer's `async with` block")
        if self._task.done():
            self._task.result()
        if not text:
            return
        self._pending.append(text)
        self._pending_chars += len(text)
        self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            if not self._pending:
                if self._closing:
                    return
                continue
            while self._coalesce and not self._closing and self._pending_chars < self._max_chars:
                delay = self._last_flush + self._interval - loop.time()
                if delay <= 0:
                    break
                try:
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
                except TimeoutError:
                    break
                self._wake.clear()
            self._last_flush = loop.time()
            await self._write(self._take())
            if self._closing and not self._pending:
                return

    def _take(self) -> list[Token]:
        pieces = self._pending
        if self._coalesce:
            text = "".join(pieces)
            pieces = [text[i : i + self._max_chars] for i in range(0, len(text), self._max_chars)]
        self._pending = []
        self._pending_chars = 0
        tokens: list[Token] = []
        for piece in pieces:
            tokens.append(Token(piece, self._next_index, self._next_offset))
            self._next_index += 1
            self._next_offset += len(piece)
        return tokens

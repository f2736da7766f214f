"""Lines typed on stdin that can be awaited and abandoned, unlike input() in a thread: a prompt
answered in another tab stops waiting for this terminal without leaving a reader behind."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import TracebackType


class Keyboard:
    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._buffer = b""
        self._loop = asyncio.get_running_loop()
        self._watching = False

    def __enter__(self) -> Keyboard:
        try:
            self._loop.add_reader(self._fd, self._readable)
            self._watching = True
        except PermissionError:
            # A regular file (stdin redirected from one) cannot be polled, but never blocks.
            threading.Thread(target=self._read_file, daemon=True).start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop_watching()

    async def line(self) -> str | None:
        """The next line without its newline; None once stdin is closed."""
        return await self._lines.get()

    def _readable(self) -> None:
        data = os.read(self._fd, 65536)
        if not data:
            self._stop_watching()
            if self._buffer:
                self._lines.put_nowait(self._buffer.decode(errors="replace"))
            self._lines.put_nowait(None)
            return
        self._buffer += data
        *complete, self._buffer = self._buffer.split(b"\n")
        for line in complete:
            self._lines.put_nowait(line.decode(errors="replace").rstrip("\r"))

    def _read_file(self) -> None:
        with open(self._fd, encoding="utf-8", errors="replace", closefd=False) as file:
            for line in file:
                self._loop.call_soon_threadsafe(self._lines.put_nowait, line.rstrip("\r\n"))
        with contextlib.suppress(RuntimeError):  # the loop may have closed first
            self._loop.call_soon_threadsafe(self._lines.put_nowait, None)

    def _stop_watching(self) -> None:
        if self._watching:
            self._loop.remove_reader(self._fd)
            self._watching = False

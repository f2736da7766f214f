"""Lines typed on stdin that can be awaited and abandoned, unlike input() in a thread: a prompt
answered in another tab stops waiting for this terminal without leaving a reader behind.

On a terminal, keys are read one by one without the terminal's echo (the live view draws the
line being typed, so it keeps redrawing the node table meanwhile); backspace, Ctrl-U and
Ctrl-D (on an empty line) edit as in a shell. Ctrl-C still interrupts."""

from __future__ import annotations

import asyncio
import contextlib
import os
import termios
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import TracebackType


class Keyboard:
    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._buffer = b""
        self._loop = asyncio.get_running_loop()
        self._watching = False
        self._typed = ""
        self._saved: list[Any] | None = None
        self.changed = asyncio.Event()
        """Set whenever the line being typed changes (for the live view to redraw it)."""

    @property
    def typed(self) -> str:
        """What has been typed of the current line (on a terminal)."""
        return self._typed

    def __enter__(self) -> Keyboard:
        if os.isatty(self._fd):
            self._saved = termios.tcgetattr(self._fd)
            mode = termios.tcgetattr(self._fd)
            mode[3] &= ~(termios.ICANON | termios.ECHO)  # lflags: key by key, no echo
            mode[6][termios.VMIN], mode[6][termios.VTIME] = 1, 0
            termios.tcsetattr(self._fd, termios.TCSANOW, mode)
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
        if self._saved is not None:
            termios.tcsetattr(self._fd, termios.TCSANOW, self._saved)
            self._saved = None

    async def line(self) -> str | None:
        """The next line without its newline; None once stdin is closed."""
        return await self._lines.get()

    def _readable(self) -> None:
        data = os.read(self._fd, 65536)
        if self._saved is not None and data:
            self._keys(data.decode(errors="replace"))
            return
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

    def _keys(self, keys: str) -> None:
        for key in keys:
            if key in "\r\n":
                self._lines.put_nowait(self._typed)
                self._typed = ""
            elif key in "\x7f\x08":
                self._typed = self._typed[:-1]
            elif key == "\x15":
                self._typed = ""
            elif key == "\x04" and not self._typed:
                self._stop_watching()
                self._lines.put_nowait(None)
                return
            elif key.isprintable():
                self._typed += key
        self.changed.set()

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

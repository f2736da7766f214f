"""Lines from stdin as a pipe (polled) or a regular file (read in a thread), then None at EOF;
a wait for a line can be abandoned without losing the line."""

from __future__ import annotations

import asyncio
import os
import pty
import termios
from typing import TYPE_CHECKING

from flowmaestro.watch.keyboard import Keyboard

if TYPE_CHECKING:
    from pathlib import Path


async def test_lines_from_a_pipe_survive_an_abandoned_wait() -> None:
    read_end, write_end = os.pipe()
    try:
        with Keyboard(read_end) as keyboard:
            waiting = asyncio.ensure_future(keyboard.line())
            await asyncio.sleep(0)
            waiting.cancel()
            os.write(write_end, b"first\r\nsec")
            assert await asyncio.wait_for(keyboard.line(), 10) == "first"
            os.write(write_end, b"ond\nlast without newline")
            os.close(write_end)
            write_end = -1
            assert await asyncio.wait_for(keyboard.line(), 10) == "second"
            assert await asyncio.wait_for(keyboard.line(), 10) == "last without newline"
            assert await asyncio.wait_for(keyboard.line(), 10) is None
    finally:
        os.close(read_end)
        if write_end != -1:
            os.close(write_end)


async def test_lines_from_a_regular_file(tmp_path: Path) -> None:
    answers = tmp_path / "answers"
    answers.write_text("y\n42\n")
    with answers.open() as file, Keyboard(file.fileno()) as keyboard:
        assert [await asyncio.wait_for(keyboard.line(), 10) for _ in range(3)] == ["y", "42", None]


async def test_on_a_terminal_keys_are_read_one_by_one_without_echo() -> None:
    master, slave = pty.openpty()
    try:
        before = termios.tcgetattr(slave)
        with Keyboard(slave) as keyboard:
            mode = termios.tcgetattr(slave)
            assert not mode[3] & (termios.ICANON | termios.ECHO)
            os.write(master, b"ab\x7fc")
            while keyboard.typed != "ac":
                keyboard.changed.clear()
                await asyncio.wait_for(keyboard.changed.wait(), 10)
            os.write(master, b"\r\x15gone\x15y\r")
            assert await asyncio.wait_for(keyboard.line(), 10) == "ac"
            assert await asyncio.wait_for(keyboard.line(), 10) == "y"
            os.write(master, b"\x04")
            assert await asyncio.wait_for(keyboard.line(), 10) is None
        # Nothing was echoed back (the live view draws the line), and the mode is restored.
        os.set_blocking(master, False)
        try:
            echoed = os.read(master, 1024)
        except BlockingIOError:
            echoed = b""
        assert echoed == b""
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)

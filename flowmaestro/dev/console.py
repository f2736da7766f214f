"""The supervisor's output: every line prefixed with the part it comes from."""

from __future__ import annotations

import sys
from typing import TextIO

_COLOURS = ["36", "35", "33", "32", "34", "31"]


class Console:
    """Writes `name | line`, the names aligned and, on a terminal, coloured."""

    def __init__(self, stream: TextIO = sys.stdout, width: int = 8) -> None:
        self._stream = stream
        self._width = width
        self._colour = stream.isatty()
        self._colours: dict[str, str] = {}

    def line(self, name: str, text: str) -> None:
        prefix = name.ljust(self._width)
        if self._colour:
            code = self._colours.setdefault(name, _COLOURS[len(self._colours) % len(_COLOURS)])
            prefix = f"\x1b[{code}m{prefix}\x1b[0m"
        self._stream.write(f"{prefix} | {text}\n")
        self._stream.flush()

    def note(self, text: str) -> None:
        self.line("dev", text)

    def block(self, text: str) -> None:
        """Unprefixed lines (the banner), so they stand out and copy cleanly."""
        self._stream.write(text + "\n")
        self._stream.flush()

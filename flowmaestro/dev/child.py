"""One supervised child process: its own process group, its output prefixed line by line."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from typing import TYPE_CHECKING

from flowmaestro.errors import FlowMaestroError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flowmaestro.dev.console import Console


class ChildError(FlowMaestroError):
    """A child exited before it was ready, or while the stack was running."""


class Child:
    """`argv` run in a new session, so a terminal's Ctrl-C reaches only the supervisor, which
    then stops the children in order; stopping signals the whole group, grandchildren too."""

    def __init__(
        self, name: str, argv: Sequence[str], env: dict[str, str], console: Console
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = env
        self._console = console
        self._proc: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.returncode

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
        self._pump = asyncio.create_task(self._copy_output())

    async def _copy_output(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        async for line in self._proc.stdout:
            self._console.line(self.name, line.decode(errors="replace").rstrip())

    async def wait(self) -> int:
        """The exit status, once the process has exited and its output is all printed."""
        assert self._proc is not None and self._pump is not None
        code = await self._proc.wait()
        await self._pump
        return code

    def check_alive(self) -> None:
        if self.returncode is not None:
            raise ChildError(f"{self.name} exited with status {self.returncode} (its log is above)")

    async def stop(self, timeout: float = 20) -> None:
        """SIGTERM the group, SIGKILL it after `timeout`; return once the process has exited."""
        if self._proc is None:
            return
        if self._proc.returncode is None:
            self._signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(timeout):
                    await self._proc.wait()
            except TimeoutError:
                self._console.note(f"{self.name} did not stop in {timeout:g}s; killing it")
        # Whatever the leader did, nothing it started may outlive it.
        self._signal(signal.SIGKILL)
        await self.wait()

    def kill(self) -> None:
        """SIGKILL the group now (a second Ctrl-C); `stop()` still reaps it."""
        if self._proc is not None:
            self._signal(signal.SIGKILL)

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

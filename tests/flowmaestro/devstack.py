"""`flowmaestro dev` as a subprocess: its banner parsed, its output kept, its process tree."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

FLOWMAESTRO = str(Path(sys.executable).with_name("flowmaestro"))
_BANNER = re.compile(r"^  (UI|token|Temporal|Temporal UI|demo):\s+(\S+)$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def dev_env(**overrides: str | None) -> dict[str, str]:
    """This environment without any FLOWMAESTRO_ setting, plus `overrides` (None drops)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWMAESTRO_")}
    env.update({k: v for k, v in overrides.items() if v is not None})
    return env


@dataclass
class Dev:
    proc: asyncio.subprocess.Process
    output: list[str] = field(default_factory=list)
    banner: dict[str, str] = field(default_factory=dict)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _in_banner: bool = False
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _pump: asyncio.Task[None] | None = None

    @property
    def log(self) -> str:
        return "\n".join(self.output)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.output.append(line)
            match = _BANNER.match(line)
            if match:
                self.banner[match.group(1)] = match.group(2)
            if line.startswith("FlowMaestro is running"):
                self._in_banner = True
            elif self._in_banner and not line:
                self._ready.set()
            async with self._changed:
                self._changed.notify_all()
        self._ready.set()
        async with self._changed:
            self._changed.notify_all()

    async def wait_output(self, text: str, timeout: float = 120) -> None:
        """Until a line containing `text` has been printed."""

        def printed() -> bool:
            return any(text in line for line in self.output) or self.proc.returncode is not None

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(printed)
        assert any(text in line for line in self.output), self.log

    async def wait_ready(self, timeout: float = 240) -> None:
        """Until the banner is complete (its blank last line) or the process has ended."""
        async with asyncio.timeout(timeout):
            await self._ready.wait()
        assert "UI" in self.banner, f"dev ended before it was ready:\n{self.log}"

    def tree(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)

    async def interrupt(self, timeout: float = 90) -> int:
        self.proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(timeout):
            code = await self.proc.wait()
            if self._pump is not None:
                await self._pump
        return code


@contextlib.asynccontextmanager
async def running_dev(args: Sequence[str], env: dict[str, str]) -> AsyncIterator[Dev]:
    """`flowmaestro dev ARGS`; killed with its whole tree if the test leaves it running."""
    proc = await asyncio.create_subprocess_exec(
        FLOWMAESTRO,
        "dev",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    dev = Dev(proc)
    dev._pump = asyncio.create_task(dev._read())
    try:
        yield dev
    finally:
        if proc.returncode is None:
            for child in dev.tree():
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
            proc.kill()
            await proc.wait()
        dev._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await dev._pump


async def run_cli(
    *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 60
) -> tuple[int, str, str]:
    """`flowmaestro ARGS` to the end, `stdin` typed in: (exit status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        FLOWMAESTRO,
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate(None if stdin is None else stdin.encode())
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def alive(processes: Sequence[psutil.Process]) -> list[psutil.Process]:
    """Those of `processes` still running (zombies count as gone: they are only a record)."""
    left = []
    for p in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                left.append(p)
    return left

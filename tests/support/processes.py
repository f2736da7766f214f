"""The tests' child processes: `Child` runs one (its output kept line by line and awaitable;
stopped, interrupted or killed on demand; started again with the same command), `run` runs
one to its end, `ready` waits for a child's HTTP readiness and `accepting` for its port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple, Self

import httpx
import psutil

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import TracebackType

FLOWMAESTRO = str(Path(sys.executable).with_name("flowmaestro"))
"""The installed CLI, as a user runs it."""

_LINE_LIMIT = 16 << 20
"""asyncio's stream limit (64 KiB by default) would end the read at a longer log line."""


def child_env(**overrides: str | None) -> dict[str, str]:
    """This environment without any FLOWMAESTRO_ setting, plus `overrides` (None drops)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWMAESTRO_")}
    env.update({k: v for k, v in overrides.items() if v is not None})
    return env


class Child:
    """One child process, stdout and stderr together in `lines` (and appended to `log` when
    given). `async with Child(...)` starts it and stops it at the end."""

    def __init__(
        self,
        *args: str | Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        log: Path | None = None,
        stdin: bool = False,
        name: str | None = None,
    ) -> None:
        self.args = [str(a) for a in args]
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.log = log
        self.name = name or Path(self.args[0]).name
        self.lines: list[str] = []
        """Every line it has written, over all its starts."""
        self._stdin = stdin
        self._proc: asyncio.subprocess.Process | None = None
        self._pump: asyncio.Task[None] | None = None
        self._read_all = False
        self._changed = asyncio.Condition()

    @property
    def proc(self) -> asyncio.subprocess.Process:
        assert self._proc is not None, f"{self.name} was never started"
        return self._proc

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        """Its exit status once ended; None while it runs (or before it starts)."""
        return None if self._proc is None else self._proc.returncode

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def start(self) -> Self:
        """Start it (again, after it ended: the same command and environment)."""
        assert self.returncode is not None or self._proc is None, f"{self.name} is running"
        self._read_all = False
        self._proc = await asyncio.create_subprocess_exec(
            *self.args,
            env=self.env,
            cwd=self.cwd,
            stdin=asyncio.subprocess.PIPE if self._stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            limit=_LINE_LIMIT,
        )
        self._pump = asyncio.create_task(self._read(self._proc))
        return self

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        # Read on to the end, so the child never blocks on a full pipe.
        assert proc.stdout is not None
        with contextlib.ExitStack() as files:
            log: IO[str] | None = None
            if self.log is not None:
                log = files.enter_context(self.log.open("a", encoding="utf-8"))
            async for raw in proc.stdout:
                line = raw.decode(errors="replace").rstrip()
                self.lines.append(line)
                if log is not None:
                    log.write(line + "\n")
                    log.flush()
                async with self._changed:
                    self._changed.notify_all()
        self._read_all = True
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, done: Callable[[], bool], what: str, timeout: float = 60) -> None:
        """Until `done()` holds (checked at each line it writes); fails at once, with its
        output, if its output ends first."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: done() or self._read_all)
        assert done(), f"{self.name} ended before {what}:\n{self.output[-8000:]}"

    async def wait_output(self, text: str, timeout: float = 60) -> str:
        """The first line holding `text`, once it has written one."""
        await self.wait_until(lambda: self.count(text) > 0, repr(text), timeout)
        return next(line for line in self.lines if text in line)

    def count(self, text: str) -> int:
        """How many of its lines hold `text`."""
        return sum(text in line for line in self.lines)

    async def write(self, data: bytes) -> None:
        stdin = self.proc.stdin
        assert stdin is not None, f"{self.name} was started without stdin=True"
        stdin.write(data)
        await stdin.drain()

    def tree(self) -> list[psutil.Process]:
        """Its descendants now."""
        return psutil.Process(self.pid).children(recursive=True)

    async def kill(self) -> int:
        """SIGKILL: no shutdown runs, as when a machine dies."""
        status = await self.stop(signal.SIGKILL)
        assert status is not None
        return status

    async def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = 20) -> int | None:
        """Send `sig` and wait for the end (SIGKILL after `timeout`); its exit status (None if
        it was never started)."""
        if self._proc is None:
            return None
        if self._proc.returncode is None:
            self._proc.send_signal(sig)
            try:
                async with asyncio.timeout(timeout):
                    await self._proc.wait()
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        # What a killed child wrote is in the pipe already; a stopped one may still flush.
        await self._drained(1 if sig == signal.SIGKILL else 10)
        return self._proc.returncode

    async def kill_tree(self) -> None:
        """SIGKILL to it and every descendant (a test left it running)."""
        if self.returncode is None:
            for descendant in self.tree():
                with contextlib.suppress(psutil.NoSuchProcess):
                    descendant.kill()
        await self.kill()

    async def _drained(self, timeout: float) -> None:
        # A descendant may hold the pipe open after the child has ended: read what comes for
        # a while, then let it go.
        if self._pump is not None:
            done, _ = await asyncio.wait({self._pump}, timeout=timeout)
            if not done:
                self._pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._pump

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class Finished(NamedTuple):
    """(exit status, stdout, stderr) of a command run to its end."""

    returncode: int
    stdout: str
    stderr: str


async def run(
    *args: str | Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = 60,
) -> Finished:
    """Run a command to its end, `stdin` typed in; killed if it outlives `timeout`."""
    proc = await asyncio.create_subprocess_exec(
        *(str(a) for a in args),
        env=dict(os.environ if env is None else env),
        cwd=cwd,
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
    return Finished(proc.returncode, out.decode(), err.decode())


async def ready(url: str, *children: Child, path: str = "/readyz", timeout: float = 60) -> None:
    """Until `url` + `path` answers 200: a separate process offers nothing else to await but
    its port. Fails at once, with its output, when one of `children` has ended."""
    async with httpx.AsyncClient(timeout=5) as http, asyncio.timeout(timeout):
        while True:
            for child in children:
                assert child.returncode is None, f"{child.name} exited:\n{child.output[-8000:]}"
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url + path)).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def accepting(port: int, *children: Child, timeout: float = 60) -> None:
    """Until a loopback `port` accepts connections (a server that speaks no HTTP). Fails at
    once, with its output, when one of `children` has ended."""
    async with asyncio.timeout(timeout):
        while True:
            for child in children:
                assert child.returncode is None, f"{child.name} exited:\n{child.output[-8000:]}"
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.02)
                continue
            writer.close()
            return

"""One port served by N processes: each binds it with SO_REUSEPORT and the kernel spreads new
connections over them; a supervisor starts them, restarts one that dies and stops them all.

The gateway needs no stickiness for this: Socket.IO runs over websocket only (one connection,
one process, for its whole life), HTTP requests are independent, and every process tails the
outbox itself, so an SSE stream or a resume works on whichever process it lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING

from flowmaestro.errors import FlowMaestroError
from flowmaestro.waiting import wait_set

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

# A worker that dies this soon after its start, this many times in a row, is not restarted
# again: it is failing at startup (bad configuration, Postgres away), not crashing by chance.
_QUICK_DEATH = 10.0
_QUICK_DEATHS = 3


_PR_SET_PDEATHSIG = 1
# Loaded here, not between fork and exec.
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGKILL when the supervisor dies, however it dies,
    so a killed supervisor never leaves workers serving its port."""
    assert _LIBC is not None
    _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A listening TCP socket on (host, port); with `reuse_port`, others may bind it too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise FlowMaestroError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="choose another --port, or stop what holds this one",
        ) from exc
    sock.setblocking(False)
    return sock


class Supervisor:
    """Runs `count` processes, `argv(i)` with `env(i)`, until SIGTERM or SIGINT; then passes
    that signal on to them (SIGTERM: each drains its sockets first) and returns. `on_exit`
    hears the pid of each process that ended. A worker that exits is started
    again after `restart_delay` seconds, unless it keeps dying at startup."""

    def __init__(
        self,
        count: int,
        argv: Callable[[int], Sequence[str]],
        env: Callable[[int], dict[str, str]],
        *,
        restart_delay: float = 1.0,
        stop_timeout: float = 30.0,
        on_exit: Callable[[int], None] = lambda pid: None,
    ) -> None:
        self._count = count
        self._argv = argv
        self._env = env
        self._restart_delay = restart_delay
        self._stop_timeout = stop_timeout
        self._on_exit = on_exit
        self._stopping = asyncio.Event()
        self._signal = signal.SIGTERM
        self.processes: dict[int, asyncio.subprocess.Process] = {}

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        self._signal = sig
        self._stopping.set()

    async def run(self) -> int:
        """0 after a requested stop, 1 when a worker kept failing at startup."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop, sig)
        try:
            results = await asyncio.gather(*(self._keep(i) for i in range(self._count)))
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        return max(results, default=0)

    async def _keep(self, index: int) -> int:
        quick_deaths = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            process = await asyncio.create_subprocess_exec(
                *self._argv(index),
                env=self._env(index),
                stdin=asyncio.subprocess.DEVNULL,
                preexec_fn=_die_with_parent if _LIBC is not None else None,
            )
            self.processes[index] = process
            waiting = asyncio.ensure_future(process.wait())
            stopping = asyncio.ensure_future(self._stopping.wait())
            await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not waiting.done():
                await self._end(process)
                waiting.cancel()
                self._on_exit(process.pid)
                return 0
            self._on_exit(process.pid)
            quick_deaths = quick_deaths + 1 if time.monotonic() - started < _QUICK_DEATH else 0
            if quick_deaths >= _QUICK_DEATHS:
                log.error("gateway worker %d keeps failing at startup; stopping", index)
                self.stop()
                return 1
            log.warning(
                "gateway worker %d (pid %d) exited with %s; restarting it",
                index,
                process.pid,
                process.returncode,
            )
            await wait_set(self._stopping, self._restart_delay)
        return 0

    async def _end(self, process: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(self._signal)
        try:
            await asyncio.wait_for(process.wait(), self._stop_timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

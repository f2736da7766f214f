"""`flowmaestro gateway` as a process of its own, which a test can kill (SIGKILL, as a crash)
and start again on the same port."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tests.gateway.harness import SECRET

if TYPE_CHECKING:
    from types import TracebackType

    from temporalio.client import Client

FLOWMAESTRO = str(Path(sys.executable).parent / "flowmaestro")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gateway_env(database_dsn: str, temporal: Client, task_queue: str) -> dict[str, str]:
    return {
        "FLOWMAESTRO_DATABASE_URL": database_dsn,
        "FLOWMAESTRO_TEMPORAL_ADDRESS": temporal.service_client.config.target_host,
        "FLOWMAESTRO_JWT_SECRET": SECRET,
        "FLOWMAESTRO_TASK_QUEUE": task_queue,
        "FLOWMAESTRO_LOG_LEVEL": "INFO",
    }


class GatewayProcess:
    """`async with GatewayProcess(env) as gw:` runs one on a fixed free port (`gw.url`);
    `kill()` and `start()` crash and restart it there."""

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self._env = {**os.environ, **env}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None
        self.log: list[str] = []
        """Its stderr lines (uvicorn's and the gateway's log), for failure messages."""

    async def start(self) -> None:
        self._proc = proc = await asyncio.create_subprocess_exec(
            FLOWMAESTRO,
            "gateway",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            env=self._env,
            stdin=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stderr is not None
        async with asyncio.timeout(60):
            while b"Uvicorn running on" not in (line := await proc.stderr.readline()):
                assert line, "the gateway exited before starting:\n" + "\n".join(self.log)
                self.log.append(line.decode(errors="replace").rstrip())
        self._drain = asyncio.create_task(self._read_rest(proc))

    async def _read_rest(self, proc: asyncio.subprocess.Process) -> None:
        # Read on, so the gateway never blocks on a full pipe.
        assert proc.stderr is not None
        while line := await proc.stderr.readline():
            self.log.append(line.decode(errors="replace").rstrip())

    async def kill(self) -> None:
        """SIGKILL: no shutdown runs, as when a machine dies."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGKILL)
        await self._ended()

    async def stop(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.send_signal(signal.SIGINT)
            try:
                await self._ended()
            except TimeoutError:
                self._proc.kill()
                await self._ended()

    async def _ended(self) -> None:
        assert self._proc is not None
        async with asyncio.timeout(20):
            await self._proc.wait()
            if self._drain is not None:
                await self._drain

    async def __aenter__(self) -> GatewayProcess:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

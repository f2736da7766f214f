"""The whole system as separate processes for the browser tests: `flowmaestro worker` and
`flowmaestro gateway` (which can be stopped and started again mid-test) on a test database
and the session's Temporal dev server."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from types import TracebackType

FLOWMAESTRO = Path(sys.executable).with_name("flowmaestro")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class StackError(Exception):
    """A process of the stack did not come up (its log is in the artifacts)."""


class Process:
    """One `flowmaestro` subcommand, its output appended to a log file."""

    def __init__(self, command: str, env: dict[str, str], log: Path) -> None:
        self.command = command
        self.env = env
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self._log_file: IO[bytes] | None = None

    async def start(self) -> None:
        self._log_file = self.log.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            str(FLOWMAESTRO),
            self.command,
            env=self.env,
            stdout=self._log_file,
            stderr=asyncio.subprocess.STDOUT,
        )

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                async with asyncio.timeout(15):
                    await self.proc.wait()
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self.proc = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.returncode


class Stack:
    """Worker and gateway on their own task queue, so other tests' workers never interfere."""

    def __init__(
        self, database_url: str, temporal_address: str, secret: str, artifacts: Path
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.task_queue = f"browser-{os.getpid()}-{self.port}"
        env = {
            **os.environ,
            "FLOWMAESTRO_DATABASE_URL": database_url,
            "FLOWMAESTRO_TEMPORAL_ADDRESS": temporal_address,
            "FLOWMAESTRO_TASK_QUEUE": self.task_queue,
            "FLOWMAESTRO_JWT_SECRET": secret,
            "FLOWMAESTRO_GATEWAY_HOST": "127.0.0.1",
            "FLOWMAESTRO_GATEWAY_PORT": str(self.port),
            # The retry example calls a local test server, which the egress guard refuses
            # unless the operator allows it.
            "FLOWMAESTRO_LIMITS__EGRESS_ALLOW": '["127.0.0.1/32"]',
        }
        artifacts.mkdir(parents=True, exist_ok=True)
        self.worker = Process("worker", env, artifacts / "worker.log")
        self.gateway = Process("gateway", env, artifacts / "gateway.log")

    async def __aenter__(self) -> Stack:
        await self.worker.start()
        await self.start_gateway()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.gateway.stop()
        await self.worker.stop()

    async def start_gateway(self) -> None:
        await self.gateway.start()
        await self._wait_ready()

    async def stop_gateway(self) -> None:
        await self.gateway.stop()

    async def _wait_ready(self) -> None:
        """Poll /readyz: a separate process offers nothing to await but its port."""
        try:
            async with asyncio.timeout(60), httpx.AsyncClient() as http:
                while True:
                    for process in (self.gateway, self.worker):
                        if process.exited() is not None:
                            raise StackError(f"{process.command} exited; see {process.log}")
                    try:
                        if (await http.get(f"{self.base_url}/readyz")).status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.2)
        except TimeoutError as exc:
            raise StackError(f"gateway not ready in 60 s; see {self.gateway.log}") from exc

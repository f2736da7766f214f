"""Throwaway brokers of a test's own (the machine's nats-server and redis-server binaries on
free loopback ports), to stop and start again; the machine's own brokers are never touched."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.ports import free_port
from tests.support.processes import Child, accepting

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

BINARIES = {"nats": shutil.which("nats-server"), "redis": shutil.which("redis-server")}


class BrokerServer:
    """One broker process on a fixed port across restarts."""

    def __init__(self, kind: str) -> None:
        binary = BINARIES[kind]
        assert binary is not None
        self.kind = kind
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix=f"fm-broker-{kind}-"))
        if kind == "nats":
            self._argv = [binary, "-a", "127.0.0.1", "-p", str(self.port)]
        else:
            self._argv = [
                binary,
                "--bind", "127.0.0.1",
                "--port", str(self.port),
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self._dir),
            ]  # fmt: skip
        self._child = Child(*self._argv, name=kind)

    @property
    def url(self) -> str:
        return (
            f"nats://127.0.0.1:{self.port}"
            if self.kind == "nats"
            else f"redis://127.0.0.1:{self.port}/0"
        )

    async def start(self) -> None:
        await self._child.start()
        await accepting(self.port, self._child, timeout=10)

    @property
    def pid(self) -> int:
        return self._child.pid

    async def stop(self) -> None:
        await self._child.kill()


@contextlib.asynccontextmanager
async def broker_server(kind: str) -> AsyncIterator[BrokerServer]:
    server = BrokerServer(kind)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
        shutil.rmtree(server._dir, ignore_errors=True)

"""Hosts on one machine: each a network namespace (`ip netns`) joined to the root namespace
(the database host) by a veth pair of its own, and TCP forwarders that publish the database
host's loopback services (Postgres, Temporal, the broker) on its side of every link."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

IP = shutil.which("ip")
UNAVAILABLE = (
    "no `ip` command"
    if IP is None
    else "network namespaces need root"
    if os.geteuid() != 0
    else None
)


def _ip(*args: str) -> None:
    assert IP is not None
    done = subprocess.run([IP, *args], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, (args, done.stderr)


class Host:
    """Namespace `name`, reached at `ip`; it reaches the database host at `gateway`."""

    def __init__(self, tag: str, index: int, net: int) -> None:
        self.name = f"fm{tag}h{index}"
        self._outside = f"fm{tag}o{index}"  # veth names: at most 15 characters
        self._inside = f"fm{tag}i{index}"
        self.gateway = f"10.{net}.{index}.1"
        self.ip = f"10.{net}.{index}.2"

    def create(self) -> None:
        _ip("netns", "add", self.name)
        _ip("link", "add", self._outside, "type", "veth", "peer", "name", self._inside)
        _ip("link", "set", self._inside, "netns", self.name)
        _ip("addr", "add", f"{self.gateway}/24", "dev", self._outside)
        _ip("link", "set", self._outside, "up")
        inside = ("netns", "exec", self.name, IP or "ip")
        _ip(*inside, "addr", "add", f"{self.ip}/24", "dev", self._inside)
        _ip(*inside, "link", "set", self._inside, "up")
        _ip(*inside, "link", "set", "lo", "up")

    def argv(self, *command: str) -> list[str]:
        """`command` run inside the namespace."""
        assert IP is not None
        return [IP, "netns", "exec", self.name, *command]

    def cut(self) -> None:
        """The host's link goes down (packets dropped, no reset sent)."""
        _ip("link", "set", self._outside, "down")

    def mend(self) -> None:
        _ip("link", "set", self._outside, "up")

    def destroy(self) -> None:
        assert IP is not None
        for args in (("netns", "del", self.name), ("link", "del", self._outside)):
            subprocess.run([IP, *args], capture_output=True, timeout=30, check=False)


@contextlib.asynccontextmanager
async def hosts(count: int) -> AsyncIterator[list[Host]]:
    tag = f"{os.getpid() % 4096:03x}"
    net = random.randrange(100, 250)
    made = [Host(tag, i, net) for i in range(1, count + 1)]
    try:
        for host in made:
            await asyncio.to_thread(host.create)
        yield made
    finally:
        for host in made:
            await asyncio.to_thread(host.destroy)


@contextlib.asynccontextmanager
async def forwarded(port: int, to: int) -> AsyncIterator[None]:
    """Connections to any address of this machine on `port` relayed to 127.0.0.1:`to`. A
    connection whose far end is away is closed, as the service's own would be."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", to)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(relay, "0.0.0.0", port)
    try:
        yield
    finally:
        server.close()

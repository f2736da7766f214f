"""The pinned connection keeps TLS on the name: the guard connects to the vetted IP, while
SNI and certificate verification use the URL's host (a certificate for that name passes,
one for another name fails). A real TLS server, a certificate made for the test."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from typing import TYPE_CHECKING

import httpx
import pytest

from flowmaestro.security import Limits
from flowmaestro.security.egress import EgressGuard
from tests.certificates import certificate

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from flowmaestro.security.egress import IPAddress

NAME = "pinned.test"


class Resolver:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return [ipaddress.ip_address("127.0.0.2")]


@contextlib.asynccontextmanager
async def tls_server(cert: Path, key: Path, seen: list[str]) -> AsyncIterator[int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def on_sni(sock: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        seen.append(server_name or "")

    context.sni_callback = on_sni

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.2", 0, ssl=context)
    async with server:
        yield server.sockets[0].getsockname()[1]


@pytest.mark.parametrize(("cert_name", "verifies"), [(NAME, True), ("other.test", False)])
async def test_tls_is_verified_against_the_name_not_the_pinned_ip(
    tmp_path: Path, cert_name: str, verifies: bool
) -> None:
    cert, key = certificate(tmp_path, cert_name)
    trusted = ssl.create_default_context(cafile=str(cert))
    seen: list[str] = []
    resolver = Resolver()
    limits = Limits(egress_allow=("127.0.0.2/32",))
    inner = httpx.AsyncHTTPTransport(verify=trusted)
    async with (
        tls_server(cert, key, seen) as port,
        EgressGuard(limits, resolver=resolver, inner=inner) as guard,
    ):
        url = f"https://{NAME}:{port}/"
        if verifies:
            async with guard.stream("GET", url, timeout=10) as response:
                assert (response.status_code, await response.aread()) == (200, b"ok")
        else:
            with pytest.raises(httpx.ConnectError, match="certificate"):
                async with guard.stream("GET", url, timeout=10):
                    pass
    assert seen == [NAME] and resolver.asked == [NAME]

"""The pinned connection keeps TLS on the name: the guard connects to the vetted IP, while
SNI and certificate verification use the URL's host (a certificate for that name passes,
one for another name fails). A real TLS server, a certificate made for the test."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import ssl
from typing import TYPE_CHECKING

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from flowmaestro.security import Limits
from flowmaestro.security.egress import EgressGuard

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


def certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


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

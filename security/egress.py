"""The one egress guard: every request whose URL a flow controls goes through it.

Following OWASP's SSRF rules: the host is resolved once, every resolved address is vetted,
and the connection goes to the vetted address (the URL's host becomes that IP; the `Host`
header and TLS SNI and certificate checks keep the name), so a second resolution that
answers differently (DNS rebinding) is never used. Redirects are followed here, one hop at
a time, and each hop is vetted again. Loopback, private, link-local, unique-local,
multicast, reserved and unspecified addresses are refused, also when embedded in IPv6
(IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo). Only the operator's allowlist
(`Limits.egress_allow`: CIDRs and host names) opens a private destination; a flow can only
narrow what it may reach (`allowed_hosts`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from flowmaestro.security.errors import SecurityError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Collection

    from flowmaestro.security.limits import Limits

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")


class EgressRefusedError(SecurityError):
    """A flow's request may not go to this destination (`code` egress_refused)."""

    code = "egress_refused"

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"destination {host} refused: {reason}")
        self.host = host
        self.reason = reason


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` has now; OSError when it has none."""
        ...


class SystemResolver:
    """The system's resolver, off the event loop (`loop.getaddrinfo` runs in a thread)."""

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found: list[IPAddress] = []
        for *_, sockaddr in infos:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in found:
                found.append(address)
        return found


def refusal(address: IPAddress) -> str | None:
    """Why a flow may not connect to `address` (None: it is a public address)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            form, v4 = embedded
            inner = refusal(v4)
            return f"{form} form of a {inner}" if inner else None
        if address in _NAT64_LOCAL:
            return "local-use NAT64 address"
    for test, name in (
        ("is_unspecified", "unspecified address"),
        ("is_loopback", "loopback address"),
        ("is_link_local", "link-local address"),
        ("is_multicast", "multicast address"),
        ("is_private", "private address"),
        ("is_reserved", "reserved address"),
        ("is_site_local", "site-local address"),
    ):
        if getattr(address, test, False):
            return name
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "shared (carrier-grade NAT) address"
    if not address.is_global:
        return "non-global address"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """An IPv4 address this IPv6 address reaches (mapped, compatible, NAT64, 6to4, Teredo)."""
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", address.ipv4_mapped
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE:
        # ::/96 is deprecated IPv4-compatible space: ::1 and :: are themselves refused.
        if int(address) <= 1:
            return None
        return "IPv4-compatible", low32
    if address in _NAT64:
        return "NAT64", low32
    if address.sixtofour is not None:
        return "6to4", address.sixtofour
    if address.teredo is not None:
        server, client = address.teredo
        for v4 in (client, server):
            if refusal(v4):
                return "Teredo", v4
        return "Teredo", client
    return None


def _host_matches(host: str, pattern: str) -> bool:
    pattern = pattern.lower().rstrip(".")
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern


class EgressPolicy:
    """The operator's allowlist (CIDRs open addresses, names open hosts)."""

    def __init__(self, allow: Collection[str] = ()) -> None:
        networks: list[IPNetwork] = []
        hosts: list[str] = []
        for entry in allow:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.append(entry.lower().rstrip("."))
        self._networks = tuple(networks)
        self._hosts = tuple(hosts)

    def vet(self, host: str, addresses: list[IPAddress]) -> IPAddress:
        """The address to connect to; EgressRefusedError when any resolved one is refused."""
        if not addresses:
            raise EgressRefusedError(host, "it has no address")
        host_allowed = any(_host_matches(host, h) for h in self._hosts)
        for address in addresses:
            plain = address
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
                plain = address.ipv4_mapped
            if host_allowed or any(plain in n for n in self._networks):
                continue
            reason = refusal(address)
            if reason is not None:
                # Only the category is named: the resolved address stays on the server.
                raise EgressRefusedError(host, f"it resolves to a {reason}")
        return addresses[0]


class PinnedTransport(httpx.AsyncBaseTransport):
    """Resolves each request's host once, vets it, and connects to that very address."""

    def __init__(
        self,
        policy: EgressPolicy,
        resolver: Resolver,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise EgressRefusedError(url.host or "?", f"scheme {url.scheme!r} is not http(s)")
        host = url.host.lower().rstrip(".")
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            addresses = [literal]
        else:
            try:
                addresses = await self._resolver.resolve(host, port)
            except OSError as exc:
                raise httpx.ConnectError(f"cannot resolve {host}", request=request) from exc
        address = self._policy.vet(host, addresses)
        if literal is not None:
            return await self._inner.handle_async_request(request)
        # Connect to the vetted IP; Host and SNI (hence certificate checks) keep the name.
        # A new request, so the client's own (for relative redirects) keeps the name too.
        headers = request.headers.copy()
        headers["Host"] = url.netloc.decode("ascii")
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=str(address)),
            headers=headers,
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": host},
        )
        return await self._inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self._inner.aclose()


class EgressGuard:
    """An HTTP client for flow-controlled URLs; the entry point owns it (`async with`)."""

    def __init__(
        self,
        limits: Limits,
        *,
        resolver: Resolver | None = None,
        inner: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._max_redirects = limits.egress_max_redirects
        transport = PinnedTransport(
            EgressPolicy(limits.egress_allow), resolver or SystemResolver(), inner
        )
        self._client = httpx.AsyncClient(transport=transport, follow_redirects=False)

    async def __aenter__(self) -> EgressGuard:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        timeout: float,
        allowed_hosts: Collection[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[httpx.Response]:
        """The final response (after vetted redirects), streaming. `allowed_hosts` (the
        flow's own list) narrows the destinations further; it never opens a refused one."""
        request = self._client.build_request(method, url, timeout=timeout, **kwargs)
        hops = 0
        while True:
            _check_allowed(request.url, allowed_hosts)
            # Resolution counts against the same timeout as the request.
            async with asyncio.timeout(timeout):
                response = await self._client.send(request, stream=True)
            following = response.next_request
            if following is None or hops >= self._max_redirects:
                break
            await response.aclose()
            hops += 1
            request = following
        try:
            yield response
        finally:
            await response.aclose()


def _check_allowed(url: httpx.URL, allowed_hosts: Collection[str] | None) -> None:
    if allowed_hosts is None:
        return
    host = url.host.lower().rstrip(".")
    if not any(_host_matches(host, pattern) for pattern in allowed_hosts):
        raise EgressRefusedError(host, "it is not in the flow's allowed_hosts")

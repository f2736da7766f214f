"""SSRF by address form: every way to write a non-public address is refused by the guard
before any connection is made (the resolver is the test's, so each form is exact)."""

from __future__ import annotations

import ipaddress

import pytest

from flowmaestro.security import Limits
from flowmaestro.security.egress import EgressGuard, EgressRefusedError, IPAddress, refusal

REFUSED = {
    "127.0.0.1": "loopback",
    "10.0.0.1": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "100.64.0.1": "shared",
    "169.254.169.254": "link-local",
    "0.0.0.0": "unspecified",
    "224.0.0.1": "multicast",
    "240.0.0.1": "private",
    "::1": "loopback",
    "::": "unspecified",
    "fe80::1": "link-local",
    "fc00::1": "private",
    "fd12:3456::1": "private",
    "fec0::1": "site-local",
    "ff02::1": "multicast",
    "::ffff:127.0.0.1": "IPv4-mapped form of a loopback",
    "::ffff:169.254.169.254": "IPv4-mapped form of a link-local",
    "::127.0.0.1": "IPv4-compatible form of a loopback",
    "::10.0.0.1": "IPv4-compatible form of a private",
    "64:ff9b::7f00:1": "NAT64 form of a loopback",
    "64:ff9b::a9fe:a9fe": "NAT64 form of a link-local",
    "64:ff9b:1::1": "local-use NAT64",
    "2002:7f00:1::": "6to4 form of a loopback",
    "2002:c0a8:101::1": "6to4 form of a private",
    "2001:0:4136:e378:8000:63bf:80ff:fffe": "Teredo form of a loopback",
}
PUBLIC = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "64:ff9b::5db8:d70e"]


class FixedResolver:
    """Answers every name with the addresses given (what an attacker's DNS would say)."""

    def __init__(self, *addresses: str) -> None:
        self.addresses: list[IPAddress] = [ipaddress.ip_address(a) for a in addresses]
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        self.asked.append(host)
        return self.addresses


@pytest.mark.parametrize(("address", "reason"), sorted(REFUSED.items()))
def test_each_address_form_is_refused(address: str, reason: str) -> None:
    found = refusal(ipaddress.ip_address(address))
    assert found is not None and found.startswith(reason)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", sorted(REFUSED))
async def test_a_name_resolving_to_any_form_is_refused_naming_only_the_host(address: str) -> None:
    resolver = FixedResolver("93.184.215.14", address)
    async with EgressGuard(Limits(), resolver=resolver) as guard:
        with pytest.raises(EgressRefusedError) as refused:
            async with guard.stream("GET", "http://attacker.example/x", timeout=5):
                pass
    assert refused.value.code == "egress_refused"
    assert "attacker.example" in str(refused.value)
    # The attacker learns the category, not the address its name resolved to.
    assert address not in str(refused.value)


@pytest.mark.parametrize("url", ["http://[::ffff:127.0.0.1]:9/", "http://[::127.0.0.1]/"])
async def test_a_literal_embedded_address_is_refused(url: str) -> None:
    async with EgressGuard(Limits(), resolver=FixedResolver()) as guard:
        with pytest.raises(EgressRefusedError):
            async with guard.stream("GET", url, timeout=5):
                pass


@pytest.mark.parametrize(
    "url", ["http://2130706433:9/", "http://0x7f.1:9/", "http://127.1:9/", "http://017700000001:9/"]
)
async def test_numeric_spellings_resolve_to_loopback_and_are_refused(url: str) -> None:
    """What the system resolver makes of decimal, hex, octal and short forms is vetted."""
    async with EgressGuard(Limits()) as guard:
        with pytest.raises(EgressRefusedError, match="loopback"):
            async with guard.stream("GET", url, timeout=5):
                pass

"""Keys from a JWKS URL, through the egress guard: cached, fetched again for an unknown
`kid` at most once per interval (random kids cannot hammer the issuer), rotated with no
restart, kept through a failed fetch; a private issuer is refused unless the operator
allows it."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from flowmaestro.gateway import GatewayConfig
from flowmaestro.gateway.auth import TokenVerifier
from flowmaestro.gateway.errors import AuthError
from flowmaestro.security import Limits
from flowmaestro.security.egress import EgressGuard
from tests.http_server import scripted_server
from tests.support.clock import FakeClock

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


def key_pair(kid: str) -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    return private, {**jwk, "kid": kid, "use": "sig"}


def signed(private: rsa.RSAPrivateKey, kid: str, user: str = "u1") -> str:
    # Valid for longer than the clock is moved on here.
    claims = {"sub": user, "iat": int(time.time()), "exp": int(time.time()) + 3600}
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})


LOCAL = Limits(egress_allow=["127.0.0.1/32"])


def verifier(url: str, egress: EgressGuard, clock: FakeClock) -> TokenVerifier:
    config = GatewayConfig(
        jwks_url=url,
        jwks_max_age=300,
        jwks_min_refresh_interval=30,
        limits=Limits(token_max_lifetime_seconds=3600),
    )
    return TokenVerifier(config, clock, egress)


@pytest.fixture
async def egress() -> AsyncIterator[EgressGuard]:
    async with EgressGuard(LOCAL) as guard:
        yield guard


async def test_a_rotated_key_is_fetched_with_no_restart_and_unknown_kids_are_rate_limited(
    egress: EgressGuard,
) -> None:
    old, old_jwk = key_pair("2026-old")
    new, new_jwk = key_pair("2026-new")
    responses: list[tuple[int, bytes | dict[str, object]]] = [
        (200, {"keys": [old_jwk]}),
        # The issuer rotates: the new key is published, the old one is gone.
        (200, {"keys": [new_jwk]}),
    ]
    clock = FakeClock()
    async with scripted_server(responses) as (url, seen):
        tokens = verifier(url, egress, clock)
        assert (await tokens.verify(signed(old, "2026-old"))).user_id == "u1"
        assert (await tokens.verify(signed(old, "2026-old", "u2"))).user_id == "u2"
        assert len(seen) == 1, "the keys are cached"

        # Within the interval an unknown kid is refused without a fetch...
        clock.advance(10)
        with pytest.raises(AuthError, match="no key '2026-new'"):
            await tokens.verify(signed(new, "2026-new"))
        for n in range(50):
            with pytest.raises(AuthError):
                await tokens.verify(signed(new, f"random-{n}"))
        assert len(seen) == 1, "random kids must not reach the issuer"

        # ...after it, the first unknown kid fetches the JWKS again: rotated, no restart.
        clock.advance(30)
        assert (await tokens.verify(signed(new, "2026-new"))).user_id == "u1"
        assert len(seen) == 2
        with pytest.raises(AuthError, match="no key '2026-old'"):
            await tokens.verify(signed(old, "2026-old"))
        assert len(seen) == 2

        # Past their age the keys are fetched again even for a known kid.
        clock.advance(300)
        assert (await tokens.verify(signed(new, "2026-new"))).user_id == "u1"
        assert len(seen) == 3


async def test_keys_survive_a_failed_fetch(egress: EgressGuard) -> None:
    private, jwk = key_pair("k1")
    responses: list[tuple[int, bytes | dict[str, object]]] = [
        (200, {"keys": [jwk]}),
        (503, b"down"),
        (200, b"x" * (300 * 1024)),  # larger than any JWKS
    ]
    clock = FakeClock()
    async with scripted_server(responses) as (url, seen):
        tokens = verifier(url, egress, clock)
        await tokens.verify(signed(private, "k1"))
        for _ in range(2):
            clock.advance(301)
            assert (await tokens.verify(signed(private, "k1"))).user_id == "u1"
        assert len(seen) == 3


async def test_a_private_issuer_is_refused_unless_allowed() -> None:
    private, jwk = key_pair("k1")
    async with (
        EgressGuard(Limits()) as guard,
        scripted_server([(200, {"keys": [jwk]})]) as (url, seen),
    ):
        tokens = verifier(url, guard, FakeClock())
        with pytest.raises(AuthError, match="no key 'k1'"):
            await tokens.verify(signed(private, "k1"))
        assert seen == [], "the guard refused 127.0.0.1 before any request"

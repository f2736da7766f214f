"""Connect-time auth: every refusal is a connect_error with code `unauthorized`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import TYPE_CHECKING, Any

import jwt
import pytest
import socketio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from flowmaestro.gateway import GatewayConfig, mint_token
from tests.gateway.harness import SECRET, Recorder, serve, token

if TYPE_CHECKING:
    from pathlib import Path

    import asyncpg
    from temporalio.testing import WorkflowEnvironment

    from tests.gateway.harness import Running


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hand_signed(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A token built by hand, as an attacker would (PyJWT refuses to make the bad ones)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    if key is None:
        return signing_input + "."
    digest = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(digest)}"


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "u1", "exp": int(time.time()) + 600, **extra}


async def refusal(
    url: str, *, auth: Any = None, query: str = "", code: str = "unauthorized"
) -> dict[str, Any]:
    """The data of the connect_error the gateway answers with (whose code is `code`)."""
    client = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []
    client.on("connect_error", errors.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(url + query, auth=auth, transports=["websocket"], wait_timeout=10)
    assert len(errors) == 1
    data = errors[0]["data"]
    assert data["code"] == code
    assert data["message"] == errors[0]["message"]
    return dict(data)


async def test_refusals_with_the_hs256_secret(gateway: Running) -> None:
    url = gateway.url
    assert "required" in (await refusal(url))["message"]
    assert "required" in (await refusal(url, auth={"token": ""}))["message"]
    await refusal(url, auth={"token": 42})
    await refusal(url, auth={"token": "not.a.jwt"})
    await refusal(url, auth={"token": mint_token("another-secret-of-enough-length!!", "u1", 60)})
    await refusal(url, auth={"token": mint_token(SECRET, "u1", -30)})
    alg_none = hand_signed({"alg": "none", "typ": "JWT"}, claims(), None)
    await refusal(url, auth={"token": alg_none})
    no_sub = jwt.encode({"exp": int(time.time()) + 600}, SECRET, algorithm="HS256")
    await refusal(url, auth={"token": no_sub})
    no_exp = jwt.encode({"sub": "u1"}, SECRET, algorithm="HS256")
    await refusal(url, auth={"token": no_exp})
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rs_token = jwt.encode(claims(), private, algorithm="RS256")
    await refusal(url, auth={"token": rs_token})
    await refusal(url, query=f"?token={mint_token(SECRET, 'u1', -30)}")
    assert gateway.app.metrics.connections._value.get() == 0


async def test_good_tokens_in_auth_and_in_the_query_are_accepted(gateway: Running) -> None:
    in_auth = await Recorder().connect(gateway.url, "u1")
    in_query = await Recorder().connect(f"{gateway.url}?token={token('u2')}", auth=None)
    for client, user in ((in_auth, "u1"), (in_query, "u2")):
        ack = await client.call("subscribe", {"channel": f"user:{user}"})
        assert ack["ok"] is True
        await client.close()


async def test_rs256_with_audience_and_issuer(
    pool: asyncpg.Pool, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_file = tmp_path / "public.pem"
    key_file.write_bytes(pem)
    config = GatewayConfig(jwt_public_key=key_file, jwt_audience="fm", jwt_issuer="https://idp")
    good = claims(aud="fm", iss="https://idp")
    async with serve(pool, temporal_env.client, config) as running:
        url = running.url
        accepted = await Recorder().connect(
            url, auth={"token": jwt.encode(good, private, algorithm="RS256")}
        )
        await accepted.close()
        # Key confusion: the public key used as an HMAC secret.
        confused = hand_signed({"alg": "HS256", "typ": "JWT"}, good, pem)
        await refusal(url, auth={"token": confused})
        wrong_aud = jwt.encode(claims(aud="other", iss="https://idp"), private, algorithm="RS256")
        await refusal(url, auth={"token": wrong_aud})
        no_aud = jwt.encode(claims(iss="https://idp"), private, algorithm="RS256")
        await refusal(url, auth={"token": no_aud})
        wrong_iss = jwt.encode(claims(aud="fm", iss="https://evil"), private, algorithm="RS256")
        await refusal(url, auth={"token": wrong_iss})
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        await refusal(url, auth={"token": jwt.encode(good, other_key, algorithm="RS256")})


async def test_rs256_from_a_jwks_file(
    pool: asyncpg.Pool, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig"}]}))
    async with serve(pool, temporal_env.client, GatewayConfig(jwt_public_key=jwks_file)) as running:
        good = jwt.encode(claims(), private, algorithm="RS256", headers={"kid": "k1"})
        await (await Recorder().connect(running.url, auth={"token": good})).close()
        unknown_kid = jwt.encode(claims(), private, algorithm="RS256", headers={"kid": "k2"})
        await refusal(running.url, auth={"token": unknown_kid})

"""`flowmaestro token` and `flowmaestro gateway`'s refusal without a key, as a user runs them."""

from __future__ import annotations

import os

import jwt
import pytest

from tests.support.processes import FLOWMAESTRO, Finished, run

SECRET = "a-development-secret-of-enough-length"


async def cli(env: dict[str, str], *args: str) -> Finished:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FLOWMAESTRO_JWT")}
    return await run(FLOWMAESTRO, *args, env={**clean, **env})


async def test_token_is_signed_with_the_configured_secret_audience_and_issuer() -> None:
    env = {
        "FLOWMAESTRO_JWT_SECRET": SECRET,
        "FLOWMAESTRO_JWT_AUDIENCE": "fm",
        "FLOWMAESTRO_JWT_ISSUER": "dev",
    }
    done = await cli(env, "token", "--user", "alice", "--ttl", "120")
    assert done.returncode == 0, done.stderr
    claims = jwt.decode(
        done.stdout.strip(), SECRET, algorithms=["HS256"], audience="fm", issuer="dev"
    )
    assert claims["sub"] == "alice" and claims["exp"] - claims["iat"] == 120


async def test_token_carries_a_workspace_and_groups_under_the_configured_claims() -> None:
    env = {"FLOWMAESTRO_JWT_SECRET": SECRET, "FLOWMAESTRO_JWT_WORKSPACE_CLAIM": "tenant"}
    done = await cli(
        env,
        "token",
        "--user",
        "carol",
        "--workspace",
        "acme",
        "--group",
        "finance",
        "--group",
        "ops",
    )
    assert done.returncode == 0, done.stderr
    claims = jwt.decode(done.stdout.strip(), SECRET, algorithms=["HS256"])
    assert claims["tenant"] == "acme" and claims["groups"] == ["finance", "ops"]
    assert "org" not in claims


@pytest.mark.slow
async def test_token_and_gateway_refuse_without_a_key() -> None:
    token = await cli({}, "token", "--user", "alice")
    assert token.returncode == 1 and "FLOWMAESTRO_JWT_SECRET" in token.stderr
    gateway = await cli({"FLOWMAESTRO_DATABASE_URL": "postgresql://127.0.0.1:1/none"}, "gateway")
    assert gateway.returncode == 1 and "no JWT key configured" in gateway.stderr

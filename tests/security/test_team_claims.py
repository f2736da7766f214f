"""Identity claims are untrusted input (docs/teams.md, docs/security.md): a forged, missing
or oversized claim, a groups claim of 10,000 entries, a group or workspace named with NUL or
a wildcard are refused on connect and over HTTP; a token refresh cannot move a socket to
another workspace. The gateway keeps serving throughout."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import httpx
import jwt
import pytest

from flowmaestro.gateway import mint_token
from tests.gateway.harness import SECRET, Recorder, serve
from tests.gateway.test_auth import refusal

if TYPE_CHECKING:
    import asyncpg
    from temporalio.client import Client


def signed(claims: dict[str, Any], secret: str = SECRET) -> str:
    now = int(time.time())
    return jwt.encode({"iat": now, "exp": now + 600, **claims}, secret, algorithm="HS256")


BAD = {
    "forged (another key)": signed({"sub": "mallory", "org": "acme"}, "x" * 40),
    "no sub": signed({"org": "acme", "groups": ["finance"]}),
    "workspace not a string": signed({"sub": "mallory", "org": ["acme", "globex"]}),
    "workspace with ':'": signed({"sub": "mallory", "org": "acme:finance"}),
    "workspace with a wildcard": signed({"sub": "mallory", "org": "*"}),
    "oversized workspace": signed({"sub": "mallory", "org": "a" * 201}),
    "groups not a list": signed({"sub": "mallory", "org": "acme", "groups": "finance"}),
    "10,000 groups": signed(
        {"sub": "mallory", "org": "acme", "groups": [f"g{i}" for i in range(10_000)]}
    ),
    "101 groups": signed(
        {"sub": "mallory", "org": "acme", "groups": [f"g{i}" for i in range(101)]}
    ),
    "a group with NUL": signed({"sub": "mallory", "org": "acme", "groups": ["fin\x00ance"]}),
    "a group '*'": signed({"sub": "mallory", "org": "acme", "groups": ["*"]}),
    "a group 'fin%'": signed({"sub": "mallory", "org": "acme", "groups": ["fin%"]}),
    "a group 'fin?'": signed({"sub": "mallory", "org": "acme", "groups": ["fin?"]}),
    "a group '[a-z]*'": signed({"sub": "mallory", "org": "acme", "groups": ["[a-z]*"]}),
    "an empty group": signed({"sub": "mallory", "org": "acme", "groups": [""]}),
    "a group not a string": signed({"sub": "mallory", "org": "acme", "groups": [7]}),
    "oversized group": signed({"sub": "mallory", "org": "acme", "groups": ["g" * 201]}),
}


@pytest.mark.parametrize("token", BAD.values(), ids=BAD.keys())
async def test_bad_claims_are_refused_on_connect_and_over_http(
    pool: asyncpg.Pool, no_temporal: Client, token: str
) -> None:
    async with serve(pool, no_temporal) as running:
        await refusal(running.url, auth={"token": token})
        async with httpx.AsyncClient(base_url=running.url) as http:
            response = await http.get(
                "/api/executions", headers={"Authorization": f"Bearer {token}"}
            )
            assert response.status_code == 401, response.text
            assert response.json()["error"]["code"] == "unauthorized"
            assert (await http.get("/healthz")).status_code == 200


async def test_a_10k_group_token_is_refused_before_it_is_decoded(
    pool: asyncpg.Pool, no_temporal: Client
) -> None:
    token = BAD["10,000 groups"]
    assert len(token) > 32 * 1024  # over Limits.token_max_bytes: never parsed
    async with serve(pool, no_temporal) as running:
        data = await refusal(running.url, auth={"token": token})
        assert "longer than" in data["message"]


async def test_a_refresh_cannot_move_a_socket_to_another_workspace(
    pool: asyncpg.Pool, no_temporal: Client
) -> None:
    async with serve(pool, no_temporal) as running:
        acme = mint_token(SECRET, "mallory", 600, workspace="acme", groups=["finance"])
        socket = await Recorder().connect(running.url, auth={"token": acme})
        for other in (
            mint_token(SECRET, "mallory", 600, workspace="globex", groups=["finance"]),
            mint_token(SECRET, "mallory", 600),  # no workspace: her personal one
        ):
            refused = await socket.call("auth:refresh", {"token": other})
            assert refused["error"]["code"] == "forbidden", refused
            assert "workspace" in refused["error"]["message"]
        same = mint_token(SECRET, "mallory", 900, workspace="acme", groups=["ops"])
        accepted = await socket.call("auth:refresh", {"token": same})
        assert accepted["ok"], accepted
        await socket.close()

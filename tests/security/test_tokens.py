"""Tokens: never written to a log, never accepted beyond the configured lifetime."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpx
import jwt
import socketio

from gateway import mint_token
from tests.gateway.harness import SECRET, Recorder
from tests.gateway.test_auth import refusal
from tests.security.stack import gateway_stack, still_serving

if TYPE_CHECKING:
    import asyncpg
    from temporalio.testing import WorkflowEnvironment


async def test_a_query_token_never_reaches_the_access_log(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with gateway_stack(database_dsn, pool, temporal_env.client) as stack:
        secret_token = mint_token(SECRET, "mallory", 600)
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(
            f"{stack.url}/?token={secret_token}", transports=["websocket"], wait_timeout=10
        )
        async with httpx.AsyncClient(base_url=stack.url) as http:
            # The HTTP API takes no query token, but the line of its request is logged.
            await http.get("/api/executions", params={"token": secret_token})
            await asyncio.gather(
                still_serving(stack), http.get("/healthz", params={"access_token": secret_token})
            )
        await client.disconnect()
        await stack.wait_output('"GET /healthz?access_token=[redacted] HTTP/1.1" 200')
        await stack.wait_output("/socket.io/?token=[redacted]")
    assert '"GET /api/executions?token=[redacted] HTTP/1.1" 401' in stack.log
    signature = secret_token.rsplit(".", 1)[1]
    assert signature not in stack.log and secret_token not in stack.log


async def test_a_token_living_longer_than_the_limit_is_refused(
    database_dsn: str, pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    async with gateway_stack(
        database_dsn, pool, temporal_env.client, token_max_lifetime_seconds=3600
    ) as stack:
        now = int(time.time())
        century = mint_token(SECRET, "mallory", 100 * 365 * 24 * 3600)
        no_iat_long = jwt.encode({"sub": "mallory", "exp": now + 7200}, SECRET, "HS256")
        no_iat_short = jwt.encode({"sub": "mallory", "exp": now + 600}, SECRET, "HS256")
        for refused_token in (century, no_iat_long):
            data = await refusal(stack.url, auth={"token": refused_token})
            assert "lifetime" in data["message"]
            async with httpx.AsyncClient(base_url=stack.url) as http:
                answer, _ = await asyncio.gather(
                    http.get(
                        "/api/executions", headers={"Authorization": f"Bearer {refused_token}"}
                    ),
                    still_serving(stack),
                )
            assert answer.status_code == 401
            assert answer.json()["error"]["code"] == "unauthorized"
        accepted = await Recorder().connect(stack.url, auth={"token": no_iat_short})
        assert accepted.client.connected
        await accepted.close()

"""deploy/nginx.conf terminates TLS: a client connects with wss:// through it and follows a
channel; plain http:// only redirects; a client that does not trust the certificate is
refused."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

import httpx
import pytest

from flowmaestro.client import Client
from flowmaestro.errors import UnreachableError
from tests.flowmaestro.topology import NGINX, nginx
from tests.gateway.harness import token
from tests.gateway.process import GatewayProcess, gateway_env

if TYPE_CHECKING:
    from pathlib import Path

    from temporalio.testing import WorkflowEnvironment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        NGINX is None, reason="TLS test skipped: nginx is not installed (apt-get install nginx)"
    ),
]


async def test_wss_through_the_tls_proxy(
    database_dsn: str, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    env = {
        **gateway_env(database_dsn, temporal_env.client, "tls"),
        "FLOWMAESTRO_GATEWAY_WORKERS": "1",
    }
    async with (
        GatewayProcess(env) as gateway,
        nginx([gateway.port, gateway.port], tmp_path / "nginx") as edge,
    ):
        async with httpx.AsyncClient() as plain:
            answer = await plain.get(f"{edge.plain_url}/api/executions?limit=1")
        assert answer.status_code == 308
        assert answer.headers["location"].startswith("https://")

        async with Client(edge.url, token("u1"), tls=edge.tls) as client:
            subscribed = asyncio.Event()

            async def follow() -> None:
                async for _ in client.events(
                    "user:u1", after=0, on_subscribed=lambda _: subscribed.set()
                ):
                    pass

            follower = asyncio.create_task(follow())
            try:
                await asyncio.wait_for(subscribed.wait(), 30)
                assert client.connected
            finally:
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await follower

        with pytest.raises(UnreachableError):
            async with Client(edge.url, token("u1"), connect_timeout=5):
                pass

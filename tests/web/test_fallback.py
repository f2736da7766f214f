"""Chromium behind a proxy that refuses WebSocket upgrades (403), as corporate proxies do:
the approval flow with an agent (examples/agent_approval.yaml) is watched live over the SSE
fallback and its prompt answered over HTTP; then the proxy lets upgrades through and the page
returns to the WebSocket mid-run, with no missing or doubled event (web/e2e/fallback.mjs)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from flowmaestro.gateway.auth import mint_token
from tests.web.driver import ARTIFACTS, drive, missing
from tests.web.proxy import UpgradeBlockingProxy
from tests.web.stack import Stack

if TYPE_CHECKING:
    from temporalio.testing import WorkflowEnvironment

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(missing() is not None, reason=missing() or ""),
]


async def test_the_page_falls_back_to_sse_and_returns_to_websocket(
    database_dsn: str, temporal_env: WorkflowEnvironment
) -> None:
    secret = uuid.uuid4().hex
    address = temporal_env.client.service_client.config.target_host
    async with (
        Stack(database_dsn, address, secret, ARTIFACTS / "fallback") as stack,
        UpgradeBlockingProxy("127.0.0.1", stack.port) as proxy,
    ):

        async def serve(request: dict[str, Any]) -> dict[str, Any] | None:
            match request["request"]:
                case "proxy":
                    return {
                        "refused": proxy.refused,
                        "websockets": proxy.websockets,
                        "streams": proxy.streams,
                    }
                case "lift":
                    proxy.blocking = False
                    await proxy.wait_until(lambda p: p.websockets == 1 and p.streams == 0, 60)
                    return None
                case other:
                    raise AssertionError(f"unknown request from the browser script: {other}")

        token = mint_token(secret, "fallback-user", 3600)
        output = await drive("fallback.mjs", proxy.url, token, serve)
    assert output[-1] == "-- done"
    for name in ("fallback-1-prompt", "fallback-2-completed", "fallback-3-back-on-websocket"):
        assert (ARTIFACTS / f"{name}.png").is_file()
